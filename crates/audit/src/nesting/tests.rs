//! Unit tests of the bracket-depth pre-scan.

use super::too_deep;

#[test]
fn counts_every_kind_of_bracket() {
    assert_eq!(too_deep("fn f() { g([(1)]) }", 4), None);
    assert_eq!(too_deep("fn f() { g([(1)]) }", 3), Some((1, 13)));
}

#[test]
fn closing_brackets_bring_the_depth_back() {
    let text = "fn a() { (1) }\nfn b() { (2) }\n";
    assert_eq!(too_deep(text, 2), None);
}

#[test]
fn brackets_in_comments_strings_and_characters_do_not_count() {
    let text = concat!(
        "// ((((((\n",
        "/* (((( /* nested (((( */ (((( */\n",
        "const A: &str = \"((((\\\"((((\";\n",
        "const B: &str = r#\"(((( \" ((((\"#;\n",
        "const C: &[u8] = br\"((((\\\";\n",
        "const D: char = '(';\n",
        "const E: char = '\\'';\n",
        "fn f<'a>(x: &'a str) -> &'a str { x }\n",
    );
    assert_eq!(too_deep(text, 2), None);
}

#[test]
fn reports_the_line_and_column_past_the_limit() {
    let text = "fn f() {\n    let x = ((((1))));\n}\n";
    assert_eq!(too_deep(text, 3), Some((2, 15)));
}

#[test]
fn thirty_thousand_parentheses_are_found_without_recursion() {
    let text = format!("fn f() {{ {}1{} }}", "(".repeat(30_000), ")".repeat(30_000));
    assert!(too_deep(&text, super::MAX_DEPTH).is_some());
}

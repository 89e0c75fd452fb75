//! Unit tests of cutting a file into pieces and blanking doc comments.

use super::{PIECE_BYTES, pieces, without_docs};
use crate::nesting::scan;

#[test]
fn doc_comments_become_plain_comments_in_place() {
    let text = "//! Crate.\n/// Item.\n//// Not a doc.\nfn f() { let _s = \"/// in a string\"; }\n";
    let plain = without_docs(text, &scan(text, 64));
    assert_eq!(
        plain,
        "// Crate.\n// Item.\n//// Not a doc.\nfn f() { let _s = \"/// in a string\"; }\n"
            .replace("// Crate", "//  Crate")
            .replace("// Item", "//  Item")
    );
    assert_eq!(plain.len(), text.len());
}

#[test]
fn item_starts_follow_top_level_ends_only() {
    let text = "use a::b;\nfn f() {\n    g();\n}\n#[test]\nfn t() {}\nstruct S {\n    x: u8,\n}\n";
    let starts = scan(text, 64).item_starts;
    let lines: Vec<usize> = starts
        .iter()
        .map(|at| text[..*at].matches('\n').count() + 1)
        .collect();
    // Lines 2 (after `use`), 5 (after `f`), 7 (after `t`) and the end.
    assert_eq!(lines, [2, 5, 7, 10]);
}

#[test]
fn a_large_file_is_cut_into_pieces_that_keep_their_line_numbers() {
    let item = "fn f() {\n    g();\n}\n";
    let count = 3 * PIECE_BYTES / item.len();
    let text = item.repeat(count);
    let parts = pieces(&text, &scan(&text, 64).item_starts);
    assert!(parts.len() >= 3, "{} pieces", parts.len());
    assert!(parts.iter().all(|piece| piece.text.len() <= PIECE_BYTES));
    let joined: String = parts.iter().map(|piece| piece.text).collect();
    assert_eq!(joined, text);
    for piece in &parts {
        let before = text[..piece.text.as_ptr() as usize - text.as_ptr() as usize]
            .matches('\n')
            .count();
        assert_eq!(piece.line_offset, before);
    }
}

#[test]
fn an_item_larger_than_a_piece_is_a_piece_of_its_own() {
    let big = format!("static T: &[u8] = &[{}];\n", "1, ".repeat(PIECE_BYTES));
    let text = format!("fn a() {{}}\n{big}fn b() {{}}\n");
    let parts = pieces(&text, &scan(&text, 64).item_starts);
    let sizes: Vec<usize> = parts.iter().map(|piece| piece.text.len()).collect();
    assert_eq!(sizes, [10, big.len(), 10]);
}

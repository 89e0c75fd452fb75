//! Validation of topics and patterns, and the matching rule stated plainly.

use crate::{Pattern, PatternError, Topic, TopicError};

fn topic(text: &str) -> Topic {
    Topic::new(text).unwrap()
}

#[test]
fn topics_are_dot_separated_non_empty_segments() {
    assert_eq!(topic("a").as_str(), "a");
    assert_eq!(topic("a.b-c.d_e.$x").segments().count(), 4);
    assert_eq!(Topic::new(""), Err(TopicError::Empty));
    assert_eq!(Topic::new(".a"), Err(TopicError::EmptySegment { index: 0 }));
    assert_eq!(Topic::new("a."), Err(TopicError::EmptySegment { index: 1 }));
    assert_eq!(
        Topic::new("a..b"),
        Err(TopicError::EmptySegment { index: 1 })
    );
}

#[test]
fn topics_refuse_wildcards_whitespace_and_control_characters() {
    assert_eq!(
        Topic::new("a.*"),
        Err(TopicError::Wildcard {
            index: 1,
            segment: "*".into()
        })
    );
    assert_eq!(
        Topic::new("a>.b"),
        Err(TopicError::Wildcard {
            index: 0,
            segment: "a>".into()
        })
    );
    assert_eq!(
        Topic::new("a.b c"),
        Err(TopicError::InvalidCharacter {
            index: 1,
            character: ' '
        })
    );
    assert_eq!(
        Topic::new("a\tb"),
        Err(TopicError::InvalidCharacter {
            index: 0,
            character: '\t'
        })
    );
    assert_eq!(
        Topic::new("a.\u{7}"),
        Err(TopicError::InvalidCharacter {
            index: 1,
            character: '\u{7}'
        })
    );
    // Case and non-ASCII letters are kept as written.
    assert_eq!(topic("Météo.Zürich").as_str(), "Météo.Zürich");
}

#[test]
fn the_system_namespace_is_a_leading_dollar() {
    assert!(topic("$sys").is_system());
    assert!(topic("$sys.drops").is_system());
    assert!(!topic("sys.$drops").is_system());
}

#[test]
fn patterns_take_whole_segment_wildcards_with_the_rest_wildcard_last() {
    for good in ["a", "*", ">", "a.*.c", "a.>", "*.*.>", "$sys.>"] {
        assert_eq!(Pattern::new(good).unwrap().as_str(), good);
    }
    assert_eq!(Pattern::new(""), Err(PatternError::Empty));
    assert_eq!(
        Pattern::new("a..b"),
        Err(PatternError::EmptySegment { index: 1 })
    );
    assert_eq!(
        Pattern::new(">.a"),
        Err(PatternError::FullWildcardNotLast { index: 0, count: 2 })
    );
    assert_eq!(
        Pattern::new("a.b*"),
        Err(PatternError::PartialWildcard {
            index: 1,
            segment: "b*".into()
        })
    );
    assert_eq!(
        Pattern::new("a.>>"),
        Err(PatternError::PartialWildcard {
            index: 1,
            segment: ">>".into()
        })
    );
    assert_eq!(
        Pattern::new("a .b"),
        Err(PatternError::InvalidCharacter {
            index: 0,
            character: ' '
        })
    );
    assert!(Pattern::new("a.b").unwrap().is_literal());
    assert!(!Pattern::new("a.*").unwrap().is_literal());
}

/// The table in `Pattern`'s docs, and the edges around it.
#[test]
fn matching_follows_nats_with_the_system_rule() {
    let cases = [
        ("orders.created", "orders.created", true),
        ("orders.created", "orders.created.eu", false),
        ("orders.created", "orders", false),
        ("orders.*", "orders.created", true),
        ("orders.*", "orders", false),
        ("orders.*", "orders.created.eu", false),
        ("orders.>", "orders.created", true),
        ("orders.>", "orders.created.eu", true),
        ("orders.>", "orders", false),
        ("*.created", "orders.created", true),
        ("*.*", "orders.created", true),
        ("*", "orders", true),
        ("*", "orders.created", false),
        (">", "orders", true),
        (">", "orders.created.eu", true),
        (">", "$sys.drops", false),
        ("*", "$sys", false),
        ("*.drops", "$sys.drops", false),
        ("$sys.>", "$sys.drops", true),
        ("$sys.*", "$sys.drops", true),
        ("$sys", "$sys", true),
        ("a.*.$x", "a.b.$x", true),
        ("a.>", "a.$b", true),
    ];
    for (pattern, topic_text, expected) in cases {
        let matched = Pattern::new(pattern).unwrap().matches(&topic(topic_text));
        assert_eq!(matched, expected, "{pattern} against {topic_text}");
    }
}

//! The trie finds exactly what the plain rule ([`Pattern::matches`]) finds, and removes cleanly.

use crate::{Pattern, Topic, trie::Trie};

const PATTERNS: &[&str] = &[
    "a", "a.b", "a.b.c", "a.*", "a.*.c", "a.>", "*", "*.b", "*.*.c", "*.>", ">", "$s", "$s.*",
    "$s.>", "b.*.>", "a.b.>", "a.*.*",
];

const TOPICS: &[&str] = &[
    "a", "a.b", "a.b.c", "a.x.c", "a.b.c.d", "b", "b.b", "b.x.y", "x.y.c", "$s", "$s.b", "$s.b.c",
    "a.$s",
];

fn trie() -> Trie<usize> {
    let mut trie = Trie::default();
    for (index, pattern) in PATTERNS.iter().enumerate() {
        trie.insert(&Pattern::new(pattern).unwrap(), index);
    }
    trie
}

fn found(trie: &Trie<usize>, topic: &str) -> Vec<usize> {
    let mut found = Vec::new();
    trie.for_each_match(topic, &mut |index| found.push(*index));
    found.sort_unstable();
    found
}

#[test]
fn the_trie_matches_as_the_rule_says() {
    let trie = trie();
    assert_eq!(trie.len(), PATTERNS.len());
    for topic in TOPICS {
        let expected: Vec<usize> = (0..PATTERNS.len())
            .filter(|&index| {
                Pattern::new(PATTERNS[index])
                    .unwrap()
                    .matches(&Topic::new(topic).unwrap())
            })
            .collect();
        assert_eq!(found(&trie, topic), expected, "topic {topic}");
    }
}

#[test]
fn two_values_under_one_pattern_are_both_found_in_order() {
    let mut trie = Trie::default();
    let pattern = Pattern::new("a.*").unwrap();
    trie.insert(&pattern, 1);
    trie.insert(&pattern, 2);
    trie.insert(&pattern, 3);
    assert_eq!(trie.remove(&pattern, |value| *value == 2), Some(2));
    let mut seen = Vec::new();
    trie.for_each_match("a.b", &mut |value| seen.push(*value));
    assert_eq!(seen, [1, 3]);
}

#[test]
fn removing_everything_leaves_an_empty_root() {
    let mut trie = trie();
    for (index, pattern) in PATTERNS.iter().enumerate().rev() {
        let pattern = Pattern::new(pattern).unwrap();
        assert_eq!(trie.remove(&pattern, |value| *value == index), Some(index));
        assert_eq!(trie.remove(&pattern, |value| *value == index), None);
    }
    assert_eq!(trie.len(), 0);
    assert!(trie.is_empty_root());
    for topic in TOPICS {
        assert!(found(&trie, topic).is_empty());
    }
}

#[test]
fn removing_what_is_not_there_changes_nothing() {
    let mut trie = trie();
    assert_eq!(trie.remove(&Pattern::new("q.*.z").unwrap(), |_| true), None);
    assert_eq!(
        trie.remove(&Pattern::new("a.b").unwrap(), |value| *value == 99),
        None
    );
    assert_eq!(trie.len(), PATTERNS.len());
}

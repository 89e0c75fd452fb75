//! Which user messages were pushed *marked* (the crate marks its calls),
//! kept beside the lane instead of in every slot.
//!
//! A mark in each slot would make every message a word larger, casts
//! included: an enum of two variants that both hold the actor's message has
//! no niche for its tag. The lane holds the bare messages, and a run of the
//! lane (the mailbox's lane, or the receiver's batch) keeps the lane indexes
//! of its marked messages here, in ascending order. Casts never touch it; a
//! message that leaves other than through the receiver (evicted, or left
//! over at exit) asks it whether it was marked.

use std::collections::VecDeque;

/// Lane indexes of marked messages, ascending. Indexes below the run's
/// front are stale (their messages were received) and are skipped lazily.
/// Boxed, and made only at the first mark: an actor that is never called
/// pays one word in its process cell.
#[derive(Debug, Default)]
#[expect(
    clippy::box_collection,
    reason = "one word in every process cell instead of four; the extra allocation is made once, at an actor's first call"
)]
pub(super) struct Marks(Option<Box<VecDeque<u64>>>);

impl Marks {
    /// Marks the message at lane index `index`, the run's new back.
    pub(super) fn mark(&mut self, index: u64) {
        let marks = self.0.get_or_insert_default();
        debug_assert!(marks.back().is_none_or(|&last| last < index));
        marks.push_back(index);
    }

    /// Whether the message at `index`, the run's front, was marked; marks
    /// before it (messages already received) are forgotten on the way.
    pub(super) fn take(&mut self, index: u64) -> bool {
        let Some(marks) = self.0.as_deref_mut() else {
            return false;
        };
        while let Some(&front) = marks.front() {
            if front > index {
                return false;
            }
            marks.pop_front();
            if front == index {
                return true;
            }
        }
        false
    }

    /// Forgets every mark (keeping the buffer).
    pub(super) fn clear(&mut self) {
        if let Some(marks) = self.0.as_deref_mut() {
            marks.clear();
        }
    }

    /// Moves the marks at `from` or later to the front of `onto`, whose
    /// marks all come after them: the receiver giving back the part of its
    /// batch it will not handle. Leaves `self` without marks.
    pub(super) fn give_back(&mut self, from: u64, onto: &mut Marks) {
        let Some(marks) = self.0.as_deref_mut() else {
            return;
        };
        while let Some(&last) = marks.back() {
            if last < from {
                break;
            }
            marks.pop_back();
            onto.0.get_or_insert_default().push_front(last);
        }
        marks.clear();
    }

    /// Gives back a buffer a burst of calls grew.
    pub(super) fn shrink(&mut self, keep: usize) {
        if self.0.as_ref().is_some_and(|marks| marks.capacity() > keep) {
            self.0 = None;
        }
    }
}

/// A user message leaving the mailbox other than to the receiver (evicted by
/// the overflow policy, discarded, or left over at exit), with whether it
/// was pushed marked.
#[derive(Debug)]
pub(crate) struct Departed<T> {
    pub(crate) item: T,
    pub(crate) marked: bool,
}

impl<T> Departed<T> {
    /// A message that was (or would have been) pushed unmarked.
    pub(crate) fn unmarked(item: T) -> Self {
        Self {
            item,
            marked: false,
        }
    }
}

/// The user messages still queued when the mailbox closed, in order, each
/// with its mark.
#[derive(Debug)]
pub(crate) struct Leftovers<T> {
    items: VecDeque<T>,
    marks: Marks,
    /// The lane index of `items.front()`.
    head: u64,
}

impl<T> Leftovers<T> {
    pub(super) fn new(items: VecDeque<T>, marks: Marks, head: u64) -> Self {
        Self { items, marks, head }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

impl<T> Iterator for Leftovers<T> {
    type Item = Departed<T>;

    fn next(&mut self) -> Option<Departed<T>> {
        let item = self.items.pop_front()?;
        let marked = self.marks.take(self.head);
        self.head += 1;
        Some(Departed { item, marked })
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_found_at_its_index_and_stale_marks_are_skipped() {
        let mut marks = Marks::default();
        for index in [2, 5, 6] {
            marks.mark(index);
        }
        // 2 was received without being asked about: skipped on the way to 5.
        assert!(!marks.take(4));
        assert!(marks.take(5));
        assert!(marks.take(6));
        assert!(!marks.take(7));
    }

    #[test]
    fn giving_back_keeps_only_the_marks_not_yet_received_in_order() {
        let mut batch = Marks::default();
        for index in [1, 3, 4] {
            batch.mark(index);
        }
        let mut lane = Marks::default();
        lane.mark(9);
        // The receiver handled up to 2 and gives back 3.. .
        batch.give_back(3, &mut lane);
        assert!(!lane.take(2));
        assert!(lane.take(3));
        assert!(lane.take(4));
        assert!(!lane.take(8));
        assert!(lane.take(9));
        assert!(!batch.take(1), "the batch keeps no mark after giving back");
    }

    #[test]
    fn leftovers_pair_each_message_with_its_own_mark() {
        let mut marks = Marks::default();
        marks.mark(10);
        marks.mark(12);
        let leftovers = Leftovers::new(VecDeque::from(["a", "b", "c", "d"]), marks, 10);
        let marked: Vec<_> = leftovers.map(|left| (left.item, left.marked)).collect();
        assert_eq!(
            marked,
            [("a", true), ("b", false), ("c", true), ("d", false)]
        );
    }
}

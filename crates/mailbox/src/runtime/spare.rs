//! Spare allocations per thread for the boxes made and freed on every
//! message or start: a dormant callee run on its caller's task, or an actor
//! of another type woken by a handler (see [`foreign`](super::foreign)), is
//! boxed, and so is a supervisor's start future (the spec erases the
//! actor's type). Each box is freed as soon as its activation or start
//! ends. The next box of the same size and alignment takes that memory back
//! instead of a fresh allocation, and its value is written straight into
//! it rather than built on the stack and copied in. A call to a dormant
//! actor costs one allocation, the reply's, instead of two; a pipeline of
//! actors of different types, one per hop instead of two; a supervised
//! start, none beyond a plain start's.
//!
//! The memory kept is at most four finished boxes per thread, freed
//! with the thread. Under loom every box is a plain `Box`: the spare
//! is per-thread state with nothing to race.

use std::pin::Pin;

#[cfg(not(foundation_loom))]
use std::{alloc::Layout, cell::Cell, ptr::NonNull};

/// Memory from the global allocator, of `layout`, holding no value: what a
/// finished box leaves behind. Freed when dropped.
#[cfg(not(foundation_loom))]
struct Spare {
    memory: NonNull<u8>,
    layout: Layout,
}

#[cfg(not(foundation_loom))]
impl Drop for Spare {
    #[allow(unsafe_code)] // freeing raw memory kept from a `Box`
    fn drop(&mut self) {
        // SAFETY: `memory` was allocated by the global allocator with
        // `layout` (it is a `Box`'s, whose layout `retire` read), it holds
        // no value any more, and this `Spare` is its only owner.
        unsafe { std::alloc::dealloc(self.memory.as_ptr(), self.layout) }
    }
}

/// How many spares a thread keeps: enough for the few kinds of box that
/// take turns on a thread (a supervisor's restart boxes the child's start
/// future and the supervisor's activation, and its caller's next call the
/// child's) each to find theirs.
#[cfg(not(foundation_loom))]
const SPARES: usize = 4;

#[cfg(not(foundation_loom))]
// audit:allow(FND002) a cache of empty allocations: nothing is read back from it but memory, and no state passes through it between activations
std::thread_local! {
    /// This thread's spare memory, newest first.
    static SPARE: [Cell<Option<Spare>>; SPARES] = const { [const { Cell::new(None) }; SPARES] };
}

/// Boxes the value `make` builds, in this thread's spare memory if it has
/// the value's layout, or in a fresh allocation; either way the value is
/// built in its box, not on the stack and copied in.
///
/// ```
/// use foundation_mailbox::__private::{boxed, retire};
///
/// let first = boxed(|| [1_u64; 32]);
/// let address = std::ptr::from_ref(&*first);
/// retire(first);
/// // The next box of that layout on this thread takes the same memory.
/// let second = boxed(|| [2_u64; 32]);
/// assert_eq!(std::ptr::from_ref(&*second), address);
/// assert_eq!(*second, [2; 32]);
/// ```
#[cfg(not(foundation_loom))]
#[inline]
#[allow(unsafe_code)] // writing a value into memory of its layout, and boxing it
pub fn boxed<T>(make: impl FnOnce() -> T) -> Pin<Box<T>> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Box::pin(make());
    }
    // Freed as `make` unwinds, if it panics: nothing was written yet.
    let memory = take(layout).unwrap_or_else(|| allocate(layout));
    let value = memory.memory.cast::<T>();
    // SAFETY: the global allocator allocated `value` with `layout`, which
    // is `T`'s: a spare `Box`'s, whose value has been dropped, or fresh.
    // Nothing else points to it (`take` moved it out of the thread-local).
    // Writing a `T` there and taking it as a `Box<T>` is what `Box::new`
    // does: `Box`'s documented raw-pointer contract needs exactly memory
    // from the global allocator with `T`'s layout.
    unsafe {
        value.as_ptr().write(make());
        // The memory belongs to the box made next.
        // audit:allow(FND009) the guard's memory passes to that box, which frees it: a hand-over, not a leak
        std::mem::forget(memory);
        Box::into_pin(Box::from_raw(value.as_ptr()))
    }
}

/// Fresh memory of `layout`, which is not zero-sized.
#[cfg(not(foundation_loom))]
#[inline]
#[allow(unsafe_code)] // allocating raw memory for a `Box`
fn allocate(layout: Layout) -> Spare {
    // SAFETY: `layout` is not zero-sized (`boxed` checked).
    let memory = unsafe { std::alloc::alloc(layout) };
    match NonNull::new(memory) {
        Some(memory) => Spare { memory, layout },
        None => std::alloc::handle_alloc_error(layout),
    }
}

/// Boxes the value `make` builds (loom: always a fresh allocation).
#[cfg(foundation_loom)]
#[inline]
pub fn boxed<T>(make: impl FnOnce() -> T) -> Pin<Box<T>> {
    Box::pin(make())
}

/// Drops a box whose value is done with, keeping its memory as this
/// thread's newest spare (the oldest is freed if there are four already).
/// Its value is dropped here, as `drop` would.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
///
/// use foundation_mailbox::__private::{boxed, retire};
///
/// let future: Pin<Box<dyn Future<Output = u8> + Send>> = boxed(|| async { 7 });
/// retire(future);
/// ```
#[cfg(not(foundation_loom))]
#[allow(unsafe_code)] // dropping a pinned value in place, then keeping its memory
pub fn retire<T: ?Sized>(boxed: Pin<Box<T>>) {
    // SAFETY: the value is dropped in place below and never moved, so
    // taking the box out of its `Pin` keeps the pinning promise.
    let raw = Box::into_raw(unsafe { Pin::into_inner_unchecked(boxed) });
    // SAFETY: `raw` comes from a live `Box`, so it points to a valid value.
    let layout = Layout::for_value(unsafe { &*raw });
    // Owned from here (a zero-sized box owns none): if the value's drop
    // unwinds, the memory is freed with this guard, as a `Box`'s would be.
    let spare = NonNull::new(raw.cast::<u8>())
        .filter(|_| layout.size() != 0)
        .map(|memory| Spare { memory, layout });
    // SAFETY: `raw` points to a valid value that nothing else will use
    // (the box was consumed), and it is dropped exactly once, here.
    unsafe { std::ptr::drop_in_place(raw) };
    if let Some(spare) = spare {
        keep(spare);
    }
}

/// Drops a box whose value is done with (loom: freed at once).
#[cfg(foundation_loom)]
pub fn retire<T: ?Sized>(boxed: Pin<Box<T>>) {
    drop(boxed);
}

/// Takes a spare of this thread's that has `layout`.
#[cfg(not(foundation_loom))]
#[inline]
fn take(layout: Layout) -> Option<Spare> {
    SPARE
        .try_with(|spares| {
            spares.iter().find_map(|cell| {
                let spare = cell.take()?;
                if spare.layout == layout {
                    return Some(spare);
                }
                // Another size: kept for a box that fits.
                cell.set(Some(spare));
                None
            })
        })
        .ok()
        .flatten()
}

/// Makes `spare` this thread's newest spare; the oldest, if there is no
/// room, is freed, and so is `spare` on a thread tearing down its locals.
#[cfg(not(foundation_loom))]
#[inline]
fn keep(spare: Spare) {
    let _ = SPARE.try_with(|spares| {
        let mut newer = Some(spare);
        for cell in spares {
            newer = cell.replace(newer);
            if newer.is_none() {
                break;
            }
        }
        // The oldest, dropped here: freed outside any cell's access.
        drop(newer);
    });
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use std::{cell::RefCell, rc::Rc};

    use super::*;

    /// Records its drop.
    struct Noted(Rc<RefCell<Vec<&'static str>>>, &'static str);

    impl Drop for Noted {
        fn drop(&mut self) {
            self.0.borrow_mut().push(self.1);
        }
    }

    /// The layouts of this thread's spares, newest first.
    fn spare_layouts() -> Vec<Layout> {
        SPARE.with(|spares| {
            spares
                .iter()
                .filter_map(|cell| {
                    let spare = cell.take();
                    let layout = spare.as_ref().map(|spare| spare.layout);
                    cell.set(spare);
                    layout
                })
                .collect()
        })
    }

    #[test]
    fn a_retired_box_drops_its_value_once_and_the_next_box_of_its_layout_reuses_the_memory() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let first = boxed(|| (Noted(Rc::clone(&log), "first"), [1_u64; 8]));
        let address = std::ptr::from_ref(&*first).cast::<u8>();
        retire(first);
        assert_eq!(*log.borrow(), ["first"]);
        assert_eq!(spare_layouts(), [Layout::new::<(Noted, [u64; 8])>()]);

        let second = boxed(|| (Noted(Rc::clone(&log), "second"), [2_u64; 8]));
        assert_eq!(
            std::ptr::from_ref(&*second).cast::<u8>(),
            address,
            "the spare memory is reused"
        );
        assert_eq!(second.1, [2; 8], "the new value, whole");
        assert!(spare_layouts().is_empty(), "taken");
        drop(second);
        assert_eq!(
            *log.borrow(),
            ["first", "second"],
            "a reused box drops as any box"
        );
    }

    #[test]
    fn each_layout_keeps_a_spare_and_one_past_the_limit_frees_the_oldest() {
        let (small, large) = (Layout::new::<[u8; 24]>(), Layout::new::<[u64; 40]>());
        retire(boxed(|| [7_u8; 24]));
        retire(boxed(|| [9_u64; 40]));
        assert_eq!(spare_layouts(), [large, small], "newest first");
        let fits = boxed(|| [3_u8; 24]);
        assert_eq!(*fits, [3; 24]);
        assert_eq!(
            spare_layouts(),
            [large],
            "the one that fits is taken, the other kept"
        );
        retire(fits);
        // Two more layouts fill the spares; a fifth frees the oldest, `large`.
        retire(boxed(|| [1_u16; 7]));
        retire(boxed(|| [1_u32; 9]));
        assert_eq!(spare_layouts().len(), SPARES);
        retire(boxed(|| [1_u8; 3]));
        assert_eq!(
            spare_layouts(),
            [
                Layout::new::<[u8; 3]>(),
                Layout::new::<[u32; 9]>(),
                Layout::new::<[u16; 7]>(),
                small
            ],
            "the oldest was freed"
        );
    }

    #[test]
    fn a_retired_trait_object_keeps_the_memory_of_its_concrete_type() {
        let erased: Pin<Box<dyn std::any::Any>> = boxed(|| [5_u32; 6]);
        retire(erased);
        assert_eq!(spare_layouts(), [Layout::new::<[u32; 6]>()]);
        retire(boxed(|| ()));
        assert_eq!(
            spare_layouts(),
            [Layout::new::<[u32; 6]>()],
            "a zero-sized box leaves nothing"
        );
    }

    #[test]
    fn a_value_whose_drop_or_construction_panics_frees_its_memory() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("dropped");
            }
        }
        let caught = std::panic::catch_unwind(|| retire(boxed(|| (Bomb, [0_u64; 4]))));
        assert!(caught.is_err(), "the drop's panic reaches the caller");
        // Freed by the guard, not kept (Miri reports a leak otherwise).
        assert!(spare_layouts().is_empty());

        retire(boxed(|| [1_u64; 5]));
        let caught = std::panic::catch_unwind(|| boxed::<[u64; 5]>(|| panic!("not built")));
        assert!(caught.is_err(), "the panic reaches the caller");
        assert!(spare_layouts().is_empty(), "the spare it took is freed");
    }
}

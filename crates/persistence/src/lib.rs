//! Actors that keep their state across crashes (skeleton; filled in by issue 6).

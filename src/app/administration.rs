//! (to be filled: see the One door issue)

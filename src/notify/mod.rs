//! Change notifications across nodes: one LISTEN connection per node on `colloquy_threads` and
//! `colloquy_queue` (fed by triggers, so every change is announced whatever made it). The hub
//! drops cached thread pages and fans live events out to Server-Sent Events streams: readers'
//! per thread, moderators' per site queue.

pub mod hub;
pub mod limiter;

pub use hub::Hub;

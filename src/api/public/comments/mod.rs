//! Public comment endpoints: thin handlers that parse input into domain types and call the
//! service, split by what they do: thread reads, an author's writes, readers' reactions.

mod reactions;
mod reads;
mod writes;

pub use reactions::*;
pub use reads::*;
pub use writes::*;

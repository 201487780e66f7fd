//! What a reader's account holds across blogs (their comments everywhere, linked logins,
//! export and erase): the queries behind the account page (`api::account`).

pub mod store;

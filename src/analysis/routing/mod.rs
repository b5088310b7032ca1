//! Which destination received what, in two steps: [`resolve()`] settles, from the spec, the
//! settings and the catalog alone, each declared destination's mode and consent categories (and
//! where each fact came from) and the undeclared destinations the settings name; [`attribute`]
//! then says which requests and events of one capture reached each of them (device mode by
//! network signature, cloud mode by Segment's server rules in [`cloud`]).

mod attribute;
pub(crate) mod cloud;
mod resolve;
#[cfg(test)]
mod tests;

pub use attribute::{
    Carried, Departure, Outcome, Reception, ReceptionKind, Routing, UnknownRequest, attribute,
    payload_words, route, route_carried, route_with,
};
pub use cloud::{cloud_delivers, cloud_delivers_any};
pub use resolve::{
    CategorySource, Evidence, ModeSource, Resolution, Resolved, Resolves, Undeclared, resolve,
    resolve_with,
};

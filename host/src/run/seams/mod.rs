//! The seams a front end plugs into a run: who approves a step
//! ([`approve::Approver`]), who watches it ([`events::Events`]), and the
//! clock and identities it is stamped with ([`clock::Clock`],
//! [`clock::Ids`]). The command line, the API and tests each give their own.

pub mod approve;
pub mod clock;
pub mod events;

//! Proofs with the real binaries (issue 21), one test binary so that CI links it once:
//! one-record proof packets (`packet`), two nodes' histories compared by `mirror-check`
//! (`mirror`), a record checked in the reader's browser by `/verify.js` (`browser`), a
//! witness cosigning a node's checkpoints (`witness`), `verify --witnessed` catching a
//! bundle that holds back records a witness cosigned (`held_back`), and three member nodes
//! with two witnesses: witnessed packets, a held-back chain and a split view that travels to
//! every node (`witnesses`).

mod browser;
mod held_back;
mod mirror;
mod packet;
mod witness;
mod witnesses;

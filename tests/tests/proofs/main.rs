//! Proofs with the real binaries (issue 21), one test binary so that CI links it once:
//! one-record proof packets (`packet`), two nodes' histories compared by `mirror-check`
//! (`mirror`), a record checked in the reader's browser by `/verify.js` (`browser`) and a
//! witness cosigning a node's checkpoints (`witness`).

mod browser;
mod mirror;
mod packet;
mod witness;

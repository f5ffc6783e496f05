//! The aidledger command line as a library: the binary in `main.rs` only parses arguments and
//! turns errors into exit codes; everything it does lives here so that benches and tests call it.

pub mod audit;
pub mod checked;
pub mod compose;
pub mod consistency;
pub mod cosigned;
pub mod describe;
pub mod export;
pub mod freshness;
pub mod governance;
pub mod iati_import;
pub mod keys;
pub mod mirror;
pub mod money;
pub mod network;
pub mod out_file;
pub mod packet;
pub mod pipeline;
pub mod provenance;
pub mod redacted;
pub mod source;
pub mod submit;
pub mod text_provenance;
pub mod treaty;
pub mod witness;

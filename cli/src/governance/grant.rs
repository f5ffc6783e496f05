//! Key grant files: what an organisation that lost control of its key hands to the admins so
//! that a revocation can name the key it continues with. The file holds the new public key and
//! the proof that its holder has the secret half, bound to one member of one network; it holds
//! nothing secret.
//!
//! ```json
//! {"network_id": "<64 hex>", "member": "GB-GOV-1", "key": "<64 hex>", "proof_of_possession": "<128 hex>"}
//! ```

use std::path::Path;

use aidledger_spec::governance::KeyGrant;
use aidledger_spec::ids::SignatureBytes;
use aidledger_spec::{NetworkId, PublicKey};
use ed25519_dalek::SigningKey;

use super::GovError;

/// Largest grant file read (a grant is about 300 bytes).
pub const GRANT_FILE_BYTES_MAX: u64 = 64 * 1024;

/// A key grant with the network and member it is bound to, as stored in a grant file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantFile {
    /// The network the proof is bound to.
    pub network_id: NetworkId,
    /// The member the key is granted to.
    pub member: String,
    /// The new public key.
    pub key: PublicKey,
    /// The new key's signature over the possession message.
    pub proof_of_possession: SignatureBytes,
}

impl GrantFile {
    /// Grants `key` to `member` of `network_id`, proved by `key` itself.
    pub fn prove(network_id: NetworkId, member: &str, key: &SigningKey) -> GrantFile {
        let grant = KeyGrant::prove(&network_id, member, key);
        GrantFile {
            network_id,
            member: member.to_owned(),
            key: grant.key,
            proof_of_possession: grant.proof_of_possession,
        }
    }

    /// The file's text: pretty JSON and a newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a grant file.
    pub fn read(path: &Path) -> Result<GrantFile, GovError> {
        let file_error = |detail: String| GovError::File {
            path: path.display().to_string(),
            detail,
        };
        let size = std::fs::metadata(path)
            .map_err(|error| file_error(error.to_string()))?
            .len();
        if size > GRANT_FILE_BYTES_MAX {
            return Err(file_error(format!(
                "{size} bytes is too large for a key grant"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|error| file_error(error.to_string()))?;
        serde_json::from_str(&text)
            .map_err(|error| file_error(format!("not a key grant file: {error}")))
    }

    /// The grant, once the file is known to be for `member` of `network_id` and its proof
    /// verifies.
    pub fn check(&self, network_id: &NetworkId, member: &str) -> Result<KeyGrant, GovError> {
        let flag = "--replacement-grant";
        if self.network_id != *network_id {
            return Err(GovError::flag(
                flag,
                format!(
                    "the grant is for network {}, not this network {network_id}",
                    self.network_id
                ),
            ));
        }
        if self.member != member {
            return Err(GovError::flag(
                flag,
                format!("the grant is for {}, not {member}", self.member),
            ));
        }
        let grant = KeyGrant {
            key: self.key,
            proof_of_possession: self.proof_of_possession,
        };
        grant
            .verify(network_id, member)
            .map_err(|problem| GovError::flag(flag, format!("key {}: {problem}", self.key)))?;
        Ok(grant)
    }
}

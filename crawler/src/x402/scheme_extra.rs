//! What each scheme expects in `extra` (PROTOCOL §4.2 step 12, §8.2). Hard requirements are the
//! ones without which no client can pay: the Solana fee payer of `exact`, and the receiver
//! authorizer and withdraw delay of `batch-settlement`. The rest are warnings.

use super::address::{self, Role};
use super::findings::{Findings, quote};
use super::networks::{Family, Stablecoin};
use serde_json::Value;

/// `batch-settlement`'s `withdrawDelay` bounds, in seconds (15 minutes to 30 days).
pub const WITHDRAW_DELAY_SECONDS: std::ops::RangeInclusive<u64> = 900..=2_592_000;

/// Checks `extra` of an offer of `scheme` on a `family` network paying `coin`.
pub fn check(
    scheme: &str,
    family: Family,
    coin: Option<&Stablecoin>,
    extra: &Value,
    path: &str,
    findings: &mut Findings,
) {
    let get = |key: &str| extra.get(key).and_then(Value::as_str);
    match (scheme, family) {
        ("exact", Family::Evm) => {
            let Some((name, version)) = coin.and_then(|c| c.eip712) else { return };
            match (get("name"), get("version")) {
                (Some(n), Some(v)) if n == name && v == version => {}
                (Some(n), Some(v)) => findings.warn(
                    "extra_domain_mismatch",
                    path,
                    format!("`extra` names the token's EIP-712 domain {}/{}, but the token signs as \"{name}\"/\"{version}\"; signatures may fail.", quote(n), quote(v)),
                ),
                _ => findings.warn(
                    "extra_domain_missing",
                    path,
                    format!("`extra` should carry the token's EIP-712 domain: {{\"name\": \"{name}\", \"version\": \"{version}\"}}."),
                ),
            }
        }
        ("exact", Family::Svm) if get("feePayer").is_none() => {
            findings.problem(
                "fee_payer_missing",
                path,
                "Solana `exact` offers need `extra.feePayer` (the facilitator's fee payer); clients cannot build the payment without it.",
            );
        }
        // Only EVM `upto` binds a facilitator into a Permit2 witness; Solana `upto` has none.
        ("upto", Family::Evm) if get("facilitatorAddress").is_none() => {
            findings.warn(
                "facilitator_address_missing",
                path,
                "EVM `upto` offers should carry `extra.facilitatorAddress`, which clients bind into the Permit2 witness.",
            );
        }
        ("batch-settlement", _) => check_batch_settlement(family, extra, path, findings),
        _ => {}
    }
}

/// `batch-settlement` needs the address that authorizes the receiver's claims and the delay
/// before a payer may withdraw: clients open the payment channel with both.
fn check_batch_settlement(family: Family, extra: &Value, path: &str, findings: &mut Findings) {
    let authorizer_path = format!("{path}.receiverAuthorizer");
    match extra.get("receiverAuthorizer") {
        None | Some(Value::Null) => findings.problem(
            "receiver_authorizer_missing",
            &authorizer_path,
            "`batch-settlement` offers need `extra.receiverAuthorizer`, the address that authorizes the receiver's claims.",
        ),
        Some(Value::String(text)) if address::check(family, Role::PayTo, text).is_ok() => {}
        Some(other) => findings.problem(
            "receiver_authorizer_invalid",
            &authorizer_path,
            format!(
                "`extra.receiverAuthorizer` {} is not a {} address.",
                quote(&other.as_str().map_or_else(|| other.to_string(), str::to_string)),
                family.as_str()
            ),
        ),
    }
    let delay = extra.get("withdrawDelay");
    if !delay.and_then(Value::as_u64).is_some_and(|d| WITHDRAW_DELAY_SECONDS.contains(&d)) {
        let got = delay.map_or_else(|| "nothing".to_string(), Value::to_string);
        findings.problem(
            "withdraw_delay_invalid",
            &format!("{path}.withdrawDelay"),
            format!(
                "`batch-settlement` offers need `extra.withdrawDelay`, a whole number of seconds from {} to {}, got {}.",
                WITHDRAW_DELAY_SECONDS.start(),
                WITHDRAW_DELAY_SECONDS.end(),
                quote(&got)
            ),
        );
    }
}

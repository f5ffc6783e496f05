//! The IATI Currency codelist (ISO 4217), as published with IATI 2.03.
//!
//! The wire rule is only "three ASCII capital letters"; this list is what a node checks before
//! it signs, so that a typo is refused at the door while old records with codes that ISO later
//! withdrew (present in the list, marked withdrawn by IATI) still verify.

/// Every code of the IATI 2.03 Currency codelist, active and withdrawn, sorted.
pub const IATI_CURRENCY_CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BYR",
    "BZD", "CAD", "CDF", "CHF", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE",
    "CZK", "DJF", "DKK", "DOP", "DZD", "EEK", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LTL", "LVL", "LYD", "MAD",
    "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRO", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV",
    "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",
    "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STD", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "USS",
    "UYI", "UYU", "UZS", "VED", "VEF", "VES", "VND", "VUV", "WST", "XAF", "XBT", "XCD", "XDR",
    "XOF", "XPF", "YER", "ZAR", "ZMK", "ZMW", "ZWL",
];

/// Whether `code` is in the IATI Currency codelist.
pub fn is_known_currency(code: &str) -> bool {
    IATI_CURRENCY_CODES.binary_search(&code).is_ok()
}

/// Whether `code` has the wire shape of a currency code: three ASCII capital letters.
pub fn is_currency_shaped(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|byte| byte.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_complete() {
        assert!(IATI_CURRENCY_CODES.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(IATI_CURRENCY_CODES.len(), 176);
        assert!(is_known_currency("GBP") && is_known_currency("XDR"));
        assert!(!is_known_currency("GBX") && !is_known_currency("gbp"));
    }
}

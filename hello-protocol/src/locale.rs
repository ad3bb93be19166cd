//! The client's side of the Kiss: a POSIX locale and a time zone, as PROTOCOL.md section 3.6
//! turns them into a [`KissResponse`]. Reading them from the system is the caller's business.

use crate::message::KissResponse;

const FALLBACK_LANGUAGE: &str = "en_US";
const FALLBACK_ENCODING: &str = "UTF-8";
const FALLBACK_TIME_ZONE: &str = "UTC";

/// Picks the locale as POSIX does for messages: the first non-empty of `LC_ALL`, `LC_MESSAGES`,
/// `LANG`, given here in that order.
pub fn effective_locale<'a>(
    candidates: impl IntoIterator<Item = Option<&'a str>>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .flatten()
        .find(|value| !value.is_empty())
}

/// Builds the Kiss response from a locale such as `fr_FR.UTF-8@euro` and an IANA time zone.
///
/// The language is the part before `.` or `@`, the encoding the part after `.`. A missing part,
/// and the `C` and `POSIX` locales' language, fall back to `en_US` and `UTF-8`; no time zone
/// falls back to `UTC`.
pub fn kiss_response(locale: Option<&str>, time_zone: Option<&str>) -> KissResponse {
    let locale = locale.unwrap_or_default();
    let without_modifier = locale.split('@').next().unwrap_or_default();
    let (language, encoding) = without_modifier
        .split_once('.')
        .unwrap_or((without_modifier, ""));
    let language = match language {
        "" | "C" | "POSIX" => FALLBACK_LANGUAGE,
        language => language,
    };
    let encoding = if encoding.is_empty() {
        FALLBACK_ENCODING
    } else {
        encoding
    };
    let time_zone = time_zone
        .filter(|tz| !tz.is_empty())
        .unwrap_or(FALLBACK_TIME_ZONE);
    KissResponse {
        language: language.to_owned(),
        encoding: encoding.to_owned(),
        time_zone: time_zone.to_owned(),
    }
}

/// Whether `name` is an IANA time zone name such as `Europe/Paris`, `Etc/GMT+5` or `UTC`, as
/// opposed to a POSIX rule such as `CET-1CEST` or a path such as `/etc/localtime`. A client
/// sends only such names; the judge of clients accepts only such names.
pub fn is_iana_name(name: &str) -> bool {
    matches!(name, "UTC" | "GMT")
        || (name.contains('/')
            && name.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(locale: Option<&str>, tz: Option<&str>) -> (String, String, String) {
        let kiss = kiss_response(locale, tz);
        (kiss.language, kiss.encoding, kiss.time_zone)
    }

    #[test]
    fn full_locale_is_split_into_language_and_encoding() {
        assert_eq!(
            parts(Some("fr_FR.ISO-8859-15@euro"), Some("Europe/Paris")),
            ("fr_FR".into(), "ISO-8859-15".into(), "Europe/Paris".into())
        );
    }

    #[test]
    fn unset_c_and_posix_fall_back() {
        for locale in [None, Some(""), Some("C"), Some("POSIX")] {
            assert_eq!(
                parts(locale, None),
                ("en_US".into(), "UTF-8".into(), "UTC".into()),
                "{locale:?}"
            );
        }
        assert_eq!(parts(Some("C.UTF-8"), Some("")).0, "en_US");
    }

    #[test]
    fn locale_without_encoding_gets_the_fallback_encoding() {
        assert_eq!(parts(Some("de_DE"), Some("Europe/Berlin")).1, "UTF-8");
    }

    #[test]
    fn first_non_empty_candidate_wins() {
        assert_eq!(
            effective_locale([Some(""), None, Some("ja_JP.UTF-8")]),
            Some("ja_JP.UTF-8")
        );
        assert_eq!(effective_locale([None, Some("")]), None);
    }

    #[test]
    fn iana_names_are_told_from_posix_rules_and_paths() {
        for name in [
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
            "UTC",
        ] {
            assert!(is_iana_name(name), "{name}");
        }
        for rule in [
            "CET-1CEST",
            "",
            "/etc/localtime",
            "EST5EDT,M3.2.0",
            "Europe//Paris",
        ] {
            assert!(!is_iana_name(rule), "{rule}");
        }
    }
}

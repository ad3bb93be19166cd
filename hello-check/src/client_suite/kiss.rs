//! The client's Kiss responses: every request answered within the Kiss interval, with a locale,
//! an encoding and an IANA time zone; in both dialects (a v1 KISS_RESPONSE is recorded as the
//! JSON one, its fields being the same).

use hello_protocol::KissResponse;
use hello_protocol::locale::is_iana_name;

use super::ClientSuiteConfig;
use super::pings::judge_answers;
use super::watch::Record;
use crate::case::Dialect;
use crate::report::Finding;

/// `kiss-answered`, within the Kiss interval of the run's dialect.
pub(super) fn kiss_answered(record: &Record, config: &ClientSuiteConfig) -> Finding {
    let (within, limit) = match config.dialect {
        Dialect::Json => (config.kiss_interval, "Kiss interval"),
        Dialect::V1 => (config.v1.kiss_interval, "v1 Kiss interval"),
    };
    let until = record.active_until();
    judge_answers(
        &record.kisses_sent,
        &record
            .kiss_answers
            .iter()
            .map(|(at, _)| *at)
            .collect::<Vec<_>>(),
        within,
        until,
        "Kiss request",
        limit,
        until - record.since(),
    )
}

/// `kiss-plausible`
pub(super) fn kiss_plausible(record: &Record) -> Finding {
    if record.kiss_answers.is_empty() {
        return Finding::skip("no Kiss response to judge");
    }
    match record
        .kiss_answers
        .iter()
        .find_map(|(_, answer)| implausible(answer))
    {
        None => {
            let (_, answer) = &record.kiss_answers[0];
            Finding::pass(format!(
                "{} {} {}",
                answer.language, answer.encoding, answer.time_zone
            ))
        }
        Some(why) => Finding::fail(why),
    }
}

fn implausible(answer: &KissResponse) -> Option<String> {
    let language_ok = {
        let (language, territory) = answer
            .language
            .split_once('_')
            .unwrap_or((&answer.language, ""));
        (2..=3).contains(&language.len())
            && language.chars().all(|c| c.is_ascii_lowercase())
            && (territory.is_empty()
                || (territory.len() == 2 && territory.chars().all(|c| c.is_ascii_uppercase())))
    };
    let encoding_ok = !answer.encoding.is_empty()
        && answer
            .encoding
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    let time_zone_ok = is_iana_name(&answer.time_zone);
    if !language_ok {
        Some(format!(
            "language {:?} is not a locale like en_US",
            answer.language
        ))
    } else if !encoding_ok {
        Some(format!(
            "encoding {:?} is not an encoding name like UTF-8",
            answer.encoding
        ))
    } else if !time_zone_ok {
        Some(format!(
            "time_zone {:?} is not an IANA name like Europe/Paris or UTC",
            answer.time_zone
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kiss(language: &str, encoding: &str, time_zone: &str) -> KissResponse {
        KissResponse {
            language: language.into(),
            encoding: encoding.into(),
            time_zone: time_zone.into(),
        }
    }

    #[test]
    fn plausible_kiss_answers_pass_and_others_are_named() {
        for ok in [
            kiss("en_US", "UTF-8", "Europe/Paris"),
            kiss("fr", "ISO-8859-15", "UTC"),
            kiss("zh_CN", "GB18030", "Etc/GMT+8"),
        ] {
            assert_eq!(implausible(&ok), None, "{ok:?}");
        }
        assert!(
            implausible(&kiss("English", "UTF-8", "UTC"))
                .unwrap()
                .contains("language")
        );
        assert!(
            implausible(&kiss("en_US", "UTF 8", "UTC"))
                .unwrap()
                .contains("encoding")
        );
        assert!(
            implausible(&kiss("en_US", "UTF-8", "CET-1CEST"))
                .unwrap()
                .contains("time_zone")
        );
    }
}

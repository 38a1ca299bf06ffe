//! The one form an email address takes before either user pool stores or compares it.
//!
//! The address is the username of both pools, so two addresses a person cannot tell apart must not become
//! two accounts (an audit registered `alice<U+200B>@example.com` and Cyrillic-`а` `аlice@example.com` beside
//! `alice@example.com`), and one address typed two ways (case, full-width forms, compatibility letters) must
//! land on one account. Hence: fold what is the same (NFKC, lower case), refuse what hides (invisible and
//! control characters) or impersonates (a label mixing scripts).

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};

/// RFC 5321's limit on a forward path, which is what mail servers will actually accept.
const MAX_LEN: usize = 254;
/// RFC 5321's limit on a local part.
const MAX_LOCAL_LEN: usize = 64;
/// Shortest thing that can be an address (`a@b` would be, the pools never accepted less).
const MIN_LEN: usize = 3;
/// Cap on the raw input so the work stays bounded. NFKC shrinks text about fourfold at most (a 4-byte
/// mathematical letter to ASCII), so longer input cannot normalise to a legal length.
const MAX_INPUT_LEN: usize = 4 * MAX_LEN;
/// Lower-casing can un-normalise (and NFKC can un-lower) a string; one or two rounds settle in practice (a
/// test sweeps every code point that changes), the bound just keeps the loop finite.
const MAX_ROUNDS: usize = 4;

/// Script combinations Unicode TS #39 "Highly Restrictive" allows in one label: the ways Japanese, Chinese and
/// Korean are really written. Any other mix is what a look-alike spoof needs.
const ALLOWED_MIXES: [&[Script]; 3] = [
    &[Script::Latin, Script::Han, Script::Hiragana, Script::Katakana],
    &[Script::Latin, Script::Han, Script::Bopomofo],
    &[Script::Latin, Script::Han, Script::Hangul],
];

/// Why an input is not an address the pools will hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not shaped like an address (the reason says which rule).
    #[error("not an email address: {0}")]
    Shape(&'static str),
    /// Longer than mail servers accept (254 bytes in all, 64 before the `@`).
    #[error("email address is too long")]
    TooLong,
    /// A character a person cannot see or that is not text: control, format (zero-width, bidi), default-ignorable,
    /// whitespace, private-use or unassigned.
    #[error("email address contains an invisible or non-text character (U+{code_point:04X})")]
    Invisible {
        /// The offending code point, as a number because the character itself shows nothing.
        code_point: u32,
    },
    /// A local part or domain label mixing scripts, as a look-alike of another address would.
    #[error("email address part {part:?} mixes writing systems")]
    MixedScript {
        /// The local part or domain label, normalised.
        part: String,
    },
}

/// The address in the one form the pools store and compare: trimmed, NFKC-normalised, lower-cased; or why it is refused.
pub fn normalize_email(input: &str) -> Result<String, EmailError> {
    let trimmed = input.trim();
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(EmailError::TooLong);
    }
    // Checked before normalising so the error names what the person typed, and again after as a guard.
    check_visible(trimmed)?;
    let normalized = fold(trimmed)?;
    check_visible(&normalized)?;

    if normalized.len() > MAX_LEN {
        return Err(EmailError::TooLong);
    }
    if normalized.len() < MIN_LEN {
        return Err(EmailError::Shape("too short"));
    }
    let (local, domain) = match normalized.split_once('@') {
        Some((local, domain)) if !domain.contains('@') => (local, domain),
        Some(_) => return Err(EmailError::Shape("more than one @")),
        None => return Err(EmailError::Shape("no @")),
    };
    if local.is_empty() {
        return Err(EmailError::Shape("nothing before the @"));
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(EmailError::TooLong);
    }
    if !domain.contains('.') {
        return Err(EmailError::Shape("domain has no dot"));
    }
    if domain.starts_with('.') || domain.ends_with('.') {
        return Err(EmailError::Shape("domain starts or ends with a dot"));
    }
    if domain.split('.').any(str::is_empty) {
        return Err(EmailError::Shape("domain has an empty label"));
    }

    for part in std::iter::once(local).chain(domain.split('.')) {
        if !single_script(part) {
            return Err(EmailError::MixedScript { part: part.to_owned() });
        }
    }
    Ok(normalized)
}

/// NFKC then lower case, repeated until neither changes anything, so the stored form is a fixed point and the
/// same address can never normalise two ways.
fn fold(input: &str) -> Result<String, EmailError> {
    let mut current: String = input.nfkc().collect();
    for _ in 0..MAX_ROUNDS {
        let next: String = current.to_lowercase().nfkc().collect();
        if next == current {
            return Ok(current);
        }
        current = next;
    }
    Err(EmailError::Shape("does not settle to one normal form"))
}

/// Refuses anything that renders as nothing, moves text around, or is not yet (or never) a character.
fn check_visible(text: &str) -> Result<(), EmailError> {
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let category = CodePointMapData::<GeneralCategory>::new();
    match text.chars().find(|&c| {
        c.is_whitespace()
            || ignorable.contains(c)
            || matches!(
                category.get(c),
                GeneralCategory::Control
                    | GeneralCategory::Format
                    | GeneralCategory::Unassigned
                    | GeneralCategory::PrivateUse
                    | GeneralCategory::Surrogate
                    | GeneralCategory::SpaceSeparator
                    | GeneralCategory::LineSeparator
                    | GeneralCategory::ParagraphSeparator
            )
    }) {
        Some(c) => Err(EmailError::Invisible { code_point: u32::from(c) }),
        None => Ok(()),
    }
}

/// True when the part's scripts (Common and Inherited carry no identity) are one, or one of TS #39's
/// Highly Restrictive mixes.
fn single_script(part: &str) -> bool {
    let mut scripts: Vec<Script> = Vec::new();
    for script in part.chars().map(|c| c.script()) {
        if !matches!(script, Script::Common | Script::Inherited) && !scripts.contains(&script) {
            scripts.push(script);
        }
    }
    scripts.len() <= 1 || ALLOWED_MIXES.iter().any(|allowed| scripts.iter().all(|s| allowed.contains(s)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        normalize_email(input).unwrap()
    }

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(ok("  Alice@Example.COM \n"), "alice@example.com");
        assert_eq!(ok("\u{3000}bob@example.com\u{00A0}"), "bob@example.com");
    }

    #[test]
    fn case_width_and_compatibility_variants_fold_together() {
        let plain = ok("alice@example.com");
        for variant in [
            "Alice@Example.COM",
            "ALICE@EXAMPLE.COM",
            "\u{FF41}\u{FF4C}\u{FF49}\u{FF43}\u{FF45}@example.com", // full-width ａｌｉｃｅ
            "alice\u{FF20}example\u{FF0E}com",                      // full-width @ and .
            "ALICE@EXAMPLE.COM",
            "\u{1D41A}lice@example.com", // mathematical bold a
        ] {
            assert_eq!(ok(variant), plain, "{variant:?}");
        }
        // Kelvin sign, and a decomposed accent against the precomposed one.
        assert_eq!(ok("\u{212A}ate@example.com"), ok("kate@example.com"));
        assert_eq!(ok("\u{212A}ATE@example.com"), "kate@example.com");
        assert_eq!(ok("jose\u{0301}@example.com"), ok("jos\u{00E9}@example.com"));
        assert_eq!(ok("JOS\u{00C9}@B\u{00DC}CHER.DE"), "jos\u{00E9}@b\u{00FC}cher.de");
        // Long s and the ohm sign are compatibility/canonical forms of ordinary letters.
        assert_eq!(ok("\u{017F}am@example.com"), "sam@example.com");
        assert_eq!(ok("\u{2126}@example.gr"), ok("\u{03C9}@example.gr"));
    }

    #[test]
    fn audit_examples_are_refused() {
        assert_eq!(
            normalize_email("alice\u{200B}@example.com"),
            Err(EmailError::Invisible { code_point: 0x200B })
        );
        assert_eq!(
            normalize_email("\u{0430}lice@example.com"),
            Err(EmailError::MixedScript { part: "\u{0430}lice".to_owned() })
        );
    }

    #[test]
    fn invisible_and_control_characters_are_refused_anywhere() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}', // zero-width, soft hyphen
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}', // bidi embeddings and overrides
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}', // isolates, marks
            '\u{034F}',
            '\u{FE0F}',
            '\u{180E}',
            '\u{3164}',
            '\u{115F}',
            '\u{E0041}', // default-ignorable
            '\u{0000}',
            '\u{0007}',
            '\u{001B}',
            '\u{007F}',
            '\u{0085}', // controls
            ' ',
            '\t',
            '\u{00A0}',
            '\u{2003}',
            '\u{3000}',
            '\u{2028}',
            '\u{2029}', // whitespace
            '\u{E000}',
            '\u{F8FF}',
            '\u{10FFFD}', // private use
            '\u{0378}',
            '\u{FFFF}', // unassigned, noncharacter
        ] {
            // Leading and trailing whitespace is trimmed, so only the interior counts for it.
            let edge = if c.is_whitespace() {
                format!("a{c}lice@example.com")
            } else {
                format!("{c}alice@example.com")
            };
            for input in [format!("al{c}ice@example.com"), format!("alice@exa{c}mple.com"), edge] {
                assert_eq!(
                    normalize_email(&input),
                    Err(EmailError::Invisible { code_point: u32::from(c) }),
                    "U+{:04X} in {input:?}",
                    u32::from(c)
                );
            }
        }
    }

    #[test]
    fn shape_rules_kept() {
        for input in
            ["", "   ", "a", "ab", "alice", "alice.example.com", "@example.com", "alice@", "alice@example"]
        {
            assert!(matches!(normalize_email(input), Err(EmailError::Shape(_))), "{input:?}");
        }
        for input in ["a@b@example.com", "alice@@example.com", "alice@.example.com", "alice@example.com."] {
            assert!(matches!(normalize_email(input), Err(EmailError::Shape(_))), "{input:?}");
        }
        for input in ["a@b..com", "a@b.c..d", "a@.com", "a@com."] {
            assert!(matches!(normalize_email(input), Err(EmailError::Shape(_))), "{input:?}");
        }
        // The idiographic full stop is not a dot to NFKC: this domain has no dot at all.
        assert!(matches!(normalize_email("a@example\u{3002}com"), Err(EmailError::Shape(_))));
        assert_eq!(ok("a@b.c"), "a@b.c");
    }

    #[test]
    fn length_limits() {
        let local64 = "a".repeat(64);
        assert!(normalize_email(&format!("{local64}@example.com")).is_ok());
        assert_eq!(normalize_email(&format!("{local64}a@example.com")), Err(EmailError::TooLong));

        let label = "b".repeat(60);
        let domain = format!("{label}.{label}.{label}.{}.com", "c".repeat(50)); // 237 bytes
        let at_254 = format!("{}@{domain}", "a".repeat(254 - 1 - domain.len()));
        assert_eq!(at_254.len(), 254);
        assert!(normalize_email(&at_254).is_ok());
        assert_eq!(normalize_email(&format!("a{at_254}")), Err(EmailError::TooLong));

        // The limit applies to the normalised form: 64 full-width letters are 192 bytes typed, 64 stored.
        let wide64 = "\u{FF41}".repeat(64);
        assert_eq!(ok(&format!("{wide64}@example.com")), format!("{local64}@example.com"));
        // And huge inputs are refused before any work.
        assert_eq!(normalize_email(&"a".repeat(100_000)), Err(EmailError::TooLong));
        // A compatibility character can expand past the limit (㌀ is アパート)...
        let expands = format!("{}@example.com", "\u{3300}".repeat(22));
        assert_eq!(normalize_email(&expands), Err(EmailError::TooLong));
        // ...or into something refused: U+FDFA becomes a phrase with spaces in it.
        assert_eq!(normalize_email("\u{FDFA}@example.com"), Err(EmailError::Invisible { code_point: 0x20 }));
    }

    #[test]
    fn mixed_scripts_are_refused_per_label() {
        for (input, part) in [
            ("\u{0430}lice@example.com", "\u{0430}lice"), // Cyrillic а + Latin
            ("alice@ex\u{0430}mple.com", "ex\u{0430}mple"), // in the domain
            ("alice@example.c\u{043E}m", "c\u{043E}m"),   // Cyrillic о in the TLD
            ("p\u{03B1}ypal@example.com", "p\u{03B1}ypal"), // Greek α
            ("alice.\u{0438}\u{0432}\u{0430}\u{043D}@example.com", "alice.\u{0438}\u{0432}\u{0430}\u{043D}"),
            ("\u{5C71}\u{0434}@example.jp", "\u{5C71}\u{0434}"), // Han + Cyrillic
            ("\u{3042}\u{AC00}@example.jp", "\u{3042}\u{AC00}"), // Hiragana + Hangul
            ("\u{3105}\u{3042}@example.tw", "\u{3105}\u{3042}"), // Bopomofo + Hiragana
        ] {
            assert_eq!(
                normalize_email(input),
                Err(EmailError::MixedScript { part: part.to_owned() }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn internationalised_addresses_are_accepted() {
        for input in [
            "\u{0430}\u{043B}\u{0438}\u{0441}\u{0430}@\u{043F}\u{0440}\u{0438}\u{043C}\u{0435}\u{0440}.\u{0440}\u{0444}", // алиса@пример.рф
            "\u{5C71}\u{7530}@example.jp", // 山田
            "user@b\u{00FC}cher.de",       // bücher
            "\u{5C71}\u{7530}\u{305F}\u{308D}\u{3046}\u{30BF}\u{30ED}\u{30FC}taro@example.jp", // Han+Hiragana+Katakana+Latin
            "\u{D64D}\u{AE38}\u{B3D9}@\u{D55C}\u{AD6D}.kr", // 홍길동@한국.kr
            "\u{5F20}\u{3105}abc@example.tw",               // Han+Bopomofo+Latin
            "\u{03B1}\u{03BB}\u{03AF}\u{03BA}\u{03B7}@example.gr", // αλίκη
            "\u{0926}\u{0947}\u{0935}@example.in",          // Devanagari with a combining sign
            "first.last+tag_1-x@sub.example.co.uk",
            "\u{00FC}ser-1@xn--bcher-kva.de",
        ] {
            assert!(normalize_email(input).is_ok(), "{input:?}: {:?}", normalize_email(input));
        }
        assert_eq!(
            ok("\u{0410}\u{041B}\u{0418}\u{0421}\u{0410}@example.com"),
            "\u{0430}\u{043B}\u{0438}\u{0441}\u{0430}@example.com"
        );
    }

    #[test]
    fn normal_form_is_a_fixed_point() {
        for input in [
            "Alice@Example.COM",
            "\u{212A}elvin@example.com",
            "\u{0130}stanbul@example.com.tr", // İ lowers to i + combining dot
            "\u{03A3}\u{0391}\u{03A3}@example.gr", // final sigma
            "\u{1E9E}tra\u{00DF}e@example.de", // capital sharp s
            "\u{FB01}le@example.com",         // ﬁ ligature
            "\u{2460}\u{24B6}@example.com",   // circled digit and letter
            "\u{1D2C}bc@example.com",         // modifier capital A
            "\u{FF21}\u{FF22}\u{FF23}@\u{FF25}\u{FF38}.\u{FF23}\u{FF2F}\u{FF2D}",
            "\u{0041}\u{030A}ngstr\u{00F6}m@example.se",
            "\u{212B}ngstr\u{00F6}m@example.se", // angstrom sign
            "\u{01C5}ungla@example.com",         // titlecase Dž
            "\u{3392}@example.com",              // ㎒ square
        ] {
            let once = ok(input);
            assert_eq!(normalize_email(&once), Ok(once.clone()), "{input:?}");
        }
    }

    /// Every code point that lower-casing or NFKC changes, or that combines, either is refused or normalises to a
    /// fixed point beside capitals: no character can make the stored form depend on how often it was normalised.
    /// (The others pass through both unchanged; sweeping them too makes a debug test run 20 times longer.)
    #[test]
    fn every_changing_code_point_normalises_to_a_fixed_point() {
        let changes = |c: char| {
            let text = c.to_string();
            text.to_lowercase() != text
                || text.nfkc().collect::<String>() != text
                || unicode_normalization::char::is_combining_mark(c)
        };
        let mut accepted = 0_u32;
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32).filter(|&c| changes(c)) {
            if let Ok(once) = normalize_email(&format!("A{c}b@ex{c}Q.com")) {
                accepted += 1;
                assert_eq!(normalize_email(&once), Ok(once.clone()), "U+{:04X}", u32::from(c));
            }
        }
        assert!(accepted > 3_000, "{accepted}");
    }
}

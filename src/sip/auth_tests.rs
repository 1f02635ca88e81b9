//! Tests for digest authentication: published RFC vectors and tolerant challenge parsing.

use super::*;

fn mufasa(password: &str) -> Credentials {
    Credentials {
        username: "Mufasa".into(),
        password: password.into(),
    }
}

/// The `response="..."` value of an Authorization header.
fn response_of(header: &str) -> &str {
    let start = header.find("response=\"").expect("has response") + 10;
    &header[start..start + header[start..].find('"').expect("closed")]
}

#[test]
fn rfc2617_md5_example_gives_the_published_response() {
    let challenge = Challenge::parse(
        "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
    )
    .expect("valid challenge");
    assert_eq!(challenge.algorithm, Algorithm::Md5);
    assert!(challenge.qop_auth);
    let h = authorization(
        &challenge,
        &mufasa("Circle Of Life"),
        "GET",
        "/dir/index.html",
        1,
        "0a4f113b",
    );
    assert_eq!(response_of(&h), "6629fae49393a05397450978507c4ef1");
    assert_eq!(
        h,
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
         response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", \
         qop=auth, nc=00000001, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
    );
}

#[test]
fn rfc7616_sha256_example_gives_the_published_response() {
    let challenge = Challenge::parse(
        "Digest\trealm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, \
         nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
         opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
    )
    .expect("valid challenge");
    assert_eq!(challenge.algorithm, Algorithm::Sha256);
    let h = authorization(
        &challenge,
        &mufasa("Circle of Life"),
        "GET",
        "/dir/index.html",
        1,
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    );
    assert_eq!(
        response_of(&h),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    assert!(h.contains(", algorithm=SHA-256, "));
    assert!(h.ends_with(", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""));
}

#[test]
fn without_qop_the_rfc2069_form_is_used() {
    let challenge = Challenge::parse("Digest realm=\"sip.example\", nonce=\"abc\"").unwrap();
    assert!(!challenge.qop_auth);
    let h = authorization(
        &challenge,
        &mufasa("pw"),
        "REGISTER",
        "sip:sip.example",
        1,
        "c",
    );
    // response = MD5(MD5(A1):nonce:MD5(A2)); no cnonce, qop or nc is sent.
    let ha1 = Algorithm::Md5.hash("Mufasa:sip.example:pw");
    let ha2 = Algorithm::Md5.hash("REGISTER:sip:sip.example");
    let expected = Algorithm::Md5.hash(&format!("{ha1}:abc:{ha2}"));
    assert_eq!(response_of(&h), expected);
    assert!(!h.contains("cnonce") && !h.contains("qop") && !h.contains("nc="));
}

#[test]
fn nonce_count_is_eight_hex_digits() {
    let challenge = Challenge::parse("Digest realm=r, nonce=n, qop=auth").unwrap();
    let h = authorization(&challenge, &mufasa("pw"), "INVITE", "sip:x@y", 0x1a2b, "c");
    assert!(h.contains("nc=00001a2b"), "{h}");
}

#[test]
fn sess_variants_hash_the_client_nonce_into_a1() {
    let c = Challenge::parse("Digest realm=r, nonce=n, qop=auth, algorithm=md5-SESS").unwrap();
    assert_eq!(c.algorithm, Algorithm::Md5Sess);
    let a = authorization(&c, &mufasa("pw"), "INVITE", "sip:x@y", 1, "c1");
    let b = authorization(&c, &mufasa("pw"), "INVITE", "sip:x@y", 1, "c2");
    assert_ne!(response_of(&a), response_of(&b));
    assert!(a.contains("algorithm=MD5-sess"));
}

#[test]
fn challenges_with_odd_spacing_quoting_and_case_parse() {
    let c = Challenge::parse(
        "  digest   REALM = \"a \\\"quoted\\\" realm\" ,,nonce=n0nce,STALE=TRUE ,  \
         algorithm=\"sha-256\",opaque=\"\", qop = \"auth-int,auth\"",
    )
    .expect("tolerant parse");
    assert_eq!(c.realm, "a \"quoted\" realm");
    assert_eq!(c.nonce, "n0nce");
    assert!(c.stale);
    assert_eq!(c.algorithm, Algorithm::Sha256);
    assert_eq!(c.opaque.as_deref(), Some(""));
    assert!(c.qop_auth);
    let h = authorization(&c, &mufasa("pw"), "BYE", "sip:x@y", 1, "c");
    assert!(h.contains("realm=\"a \\\"quoted\\\" realm\""), "{h}");
    assert!(
        !Challenge::parse("Digest realm=r, nonce=n, stale=false")
            .unwrap()
            .stale
    );
}

#[test]
fn unusable_challenges_are_rejected_with_the_reason() {
    assert_eq!(
        Challenge::parse("Basic realm=\"x\""),
        Err(AuthError::NotDigest)
    );
    assert_eq!(
        Challenge::parse("Digest nonce=n"),
        Err(AuthError::MissingParam("realm"))
    );
    assert_eq!(
        Challenge::parse("Digest realm=r"),
        Err(AuthError::MissingParam("nonce"))
    );
    assert_eq!(
        Challenge::parse("Digest realm=r, nonce=n, algorithm=SHA-512-256"),
        Err(AuthError::UnsupportedAlgorithm("SHA-512-256".into()))
    );
    assert_eq!(
        Challenge::parse("Digest realm=r, nonce=n, qop=auth-int"),
        Err(AuthError::UnsupportedQop("auth-int".into()))
    );
    assert!(matches!(
        Challenge::parse("Digest realm=\"unterminated, nonce=n"),
        Err(AuthError::Malformed(_))
    ));
    assert!(matches!(
        Challenge::parse("Digest realm=r nonce=n"),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn pick_challenge_prefers_sha256_and_skips_unsupported_ones() {
    let values = [
        "Digest realm=r, nonce=md5, algorithm=MD5, qop=auth",
        "Digest realm=r, nonce=sha512, algorithm=SHA-512-256, qop=auth",
        "Digest realm=r, nonce=sha256, algorithm=SHA-256, qop=auth",
        "Basic realm=r",
    ];
    let best = pick_challenge(values).expect("a supported challenge");
    assert_eq!(best.nonce, "sha256");
    let only_md5 = pick_challenge([values[1], values[0]]).expect("md5 still usable");
    assert_eq!(only_md5.nonce, "md5");
    assert_eq!(pick_challenge([values[1], values[3]]), None);
}

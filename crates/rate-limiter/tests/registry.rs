//! Named limiters and configuration errors: typed, never a panic.

use std::time::Duration;

use foundation_rate_limiter::{
    Config, ConfigError, DirectLimiter, ManualClock, RateLimiter, RegisterError, Registry,
    UnknownLimiter,
};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn limiters_are_found_by_name_with_their_own_limits() {
    let limiters = Registry::<u64, _>::with_clock(ManualClock::new());
    limiters
        .register("login", Config::fixed_window(1, SECOND))
        .unwrap();
    limiters.register("api", Config::gcra(3, SECOND)).unwrap();
    assert_eq!(limiters.names(), ["api", "login"]);
    assert!(limiters.check("login", &1).unwrap().is_allowed());
    assert!(!limiters.check("login", &1).unwrap().is_allowed());
    assert!(limiters.check_n("api", &1, 3).unwrap().is_allowed());
    let login = limiters.get("login").unwrap();
    assert_eq!(login.name(), "login");
    assert_eq!(login.denied(), 1);
    assert!(limiters.remove("login").is_some());
    assert_eq!(
        limiters.get("login").unwrap_err(),
        UnknownLimiter {
            name: "login".into()
        }
    );
}

#[test]
fn unknown_names_and_bad_configs_are_typed_errors() {
    let limiters = Registry::<u64>::new();
    let unknown = limiters.check("missing", &1).unwrap_err();
    assert_eq!(unknown.to_string(), "no rate limiter named \"missing\"");
    assert_eq!(
        limiters
            .register("zero", Config::gcra(0, SECOND))
            .unwrap_err(),
        RegisterError::Config(ConfigError::ZeroLimit)
    );
    assert!(limiters.names().is_empty());
    limiters.register("once", Config::gcra(1, SECOND)).unwrap();
    assert_eq!(
        limiters
            .register("once", Config::gcra(9, SECOND))
            .unwrap_err()
            .to_string(),
        "a limiter named \"once\" is already registered"
    );
    assert_eq!(limiters.get("once").unwrap().config().limit(), 1);
}

#[test]
fn every_config_error_has_a_lowercase_message() {
    assert_eq!(
        DirectLimiter::new(Config::fixed_window(1, Duration::ZERO)).unwrap_err(),
        ConfigError::ZeroWindow
    );
    assert_eq!(
        RateLimiter::<u8>::new(Config::gcra(0, SECOND)).unwrap_err(),
        ConfigError::ZeroLimit
    );
    assert_eq!(
        DirectLimiter::new(Config::gcra(1, Duration::MAX)).unwrap_err(),
        ConfigError::WindowTooLong
    );
    let just_too_long = Config::MAX_WINDOW + Duration::from_nanos(1);
    assert_eq!(
        DirectLimiter::new(Config::fixed_window(1, just_too_long)).unwrap_err(),
        ConfigError::WindowTooLong
    );
    assert!(DirectLimiter::new(Config::fixed_window(1, Config::MAX_WINDOW)).is_ok());
    for error in [
        ConfigError::ZeroLimit,
        ConfigError::ZeroWindow,
        ConfigError::WindowTooLong,
    ] {
        let message = error.to_string();
        assert!(message.starts_with(char::is_lowercase) && !message.ends_with('.'));
    }
}

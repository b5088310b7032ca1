//! What the machine must not change: every input a page can read about the host is pinned here,
//! so that a laptop, a CI runner and a sandbox with no network interface judge a site alike.
//!
//! - Context options: locale, time zone, viewport and screen, device scale, no touch, light colour
//!   scheme, no reduced motion.
//! - An init script, in every frame before any page script: `navigator.onLine` is `true` and
//!   `offline` events never reach the page (Chromium derives both from the host's interfaces: with
//!   none but loopback, analytics-next keeps every event in its offline queue), and
//!   `navigator.hardwareConcurrency`, `navigator.deviceMemory` and `navigator.connection` report
//!   fixed values instead of the host's CPU count, memory and measured network.
//!
//! An init script rather than DevTools network emulation: `Network.emulateNetworkConditions` with
//! `offline: false` only clears an override (the page stays offline), forcing it online needs a
//! throttling profile and one DevTools session per page, and it does not reach remote browsers
//! the same way. Workers are not covered (Playwright runs no init script there); analytics-next
//! and the CMPs read these values in the page.
//!
//! The page's own view of the pinned values is read back at the end of every visit
//! ([`ENVIRONMENT_SCRIPT`]) and recorded in the snapshot, so a pin that stops holding on some
//! machine shows as a snapshot difference.

use playwright_rs::protocol::{BrowserContextOptionsBuilder, Viewport};

pub(crate) const LOCALE: &str = "en-US";
pub(crate) const TIME_ZONE: &str = "UTC";
pub(crate) const WIDTH: u32 = 1280;
pub(crate) const HEIGHT: u32 = 720;
pub(crate) const SCALE: f64 = 1.0;
/// `navigator.hardwareConcurrency`: a common desktop value, not the host's CPU count.
pub(crate) const CORES: u32 = 8;
/// `navigator.deviceMemory` in GiB (the API's largest bucket is 8).
pub(crate) const MEMORY_GB: u32 = 8;

/// `options` with every machine-dependent context input pinned.
pub(crate) fn context_options(
    options: BrowserContextOptionsBuilder,
) -> BrowserContextOptionsBuilder {
    let size = Viewport {
        width: WIDTH,
        height: HEIGHT,
    };
    options
        .locale(LOCALE.to_string())
        .timezone_id(TIME_ZONE.to_string())
        .viewport(size.clone())
        .screen(size)
        .device_scale_factor(SCALE)
        .is_mobile(false)
        .has_touch(false)
        .color_scheme("light".to_string())
        .reduced_motion("no-preference".to_string())
}

/// The init script that pins what a page reads from `navigator` (see the module docs).
pub(crate) fn init_script() -> String {
    format!(
        r#"(() => {{
  const pin = (proto, name, value) => {{
    if (!proto || !(name in proto)) return;
    const get = {{ get [name]() {{ return value; }} }};
    Object.defineProperty(proto, name, {{
      get: Object.getOwnPropertyDescriptor(get, name).get, configurable: true, enumerable: true,
    }});
  }};
  pin(Navigator.prototype, 'onLine', true);
  pin(Navigator.prototype, 'hardwareConcurrency', {CORES});
  pin(Navigator.prototype, 'deviceMemory', {MEMORY_GB});
  if (typeof NetworkInformation !== 'undefined') {{
    pin(NetworkInformation.prototype, 'effectiveType', '4g');
    pin(NetworkInformation.prototype, 'rtt', 50);
    pin(NetworkInformation.prototype, 'downlink', 10);
    pin(NetworkInformation.prototype, 'saveData', false);
  }}
  // Registered before any page script, so it runs first at the window and stops the others.
  addEventListener('offline', (e) => e.stopImmediatePropagation(), true);
}})();"#
    )
}

/// Reads the page's view of the pinned values: a [`crate::capture::PageEnvironment`].
pub(crate) const ENVIRONMENT_SCRIPT: &str = "(() => ({ \
    online: navigator.onLine, \
    locale: navigator.language, \
    time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone, \
    screen: `${screen.width}x${screen.height}`, \
    scale: devicePixelRatio, \
    cores: navigator.hardwareConcurrency }))()";

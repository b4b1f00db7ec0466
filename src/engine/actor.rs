//! Who is acting: the name the audit and the activity log record for
//! this process's operator, from `[operator] name`, the environment, or
//! the system's user database.

/// Who the audit says did it: `[operator] name`, else the login name. Only
/// without either is it "unknown", and the CLI's audit says how to set it.
pub fn operator_name(configured: Option<&str>) -> String {
    configured
        .map(str::to_string)
        .or_else(|| {
            ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|u| !u.trim().is_empty()))
        })
        .or_else(account_name)
        .unwrap_or_else(|| UNKNOWN_OPERATOR.to_string())
}

/// The login name of the account this process runs as, from the system's
/// user database: for when the environment names nobody (a service, `env
/// -i`, a container).
#[cfg(unix)]
fn account_name() -> Option<String> {
    // SAFETY: passwd is plain C data; all zeroes is a valid (empty) value.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to memory owned here and sized as told;
    // getpwuid_r fills `entry` with pointers into `buffer`, read below
    // while both live.
    let status = unsafe {
        libc::getpwuid_r(
            libc::geteuid(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    if status != 0 || found.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points to a NUL-terminated string inside `buffer`.
    let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
    name.to_str()
        .ok()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
}

#[cfg(not(unix))]
fn account_name() -> Option<String> {
    None
}

pub const UNKNOWN_OPERATOR: &str = "unknown";

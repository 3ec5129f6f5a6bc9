//! The D-Bus side of the systemd driver, in pure Rust (zbus, blocking API): systemd's manager
//! on the system bus (or the caller's own instance on the user bus, rootless), the calls runc makes (StartTransientUnit, SetUnitProperties, StopUnit,
//! ResetFailedUnit), and the wait for each job's JobRemoved signal with systemd's result.
//!
//! zbus runs its socket reader on a thread of its own: this is only used after the container's
//! clone (the unit is made around the init's pid), when the runtime no longer needs to be
//! single-threaded.

use std::cell::Cell;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use zbus::blocking::{Connection, MessageIterator, Proxy};
use zbus::zvariant::{self, OwnedObjectPath};

use super::props::{Property, Value};
use crate::error::{Step, SysError};

const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
/// How long a job may take, as runc waits.
const JOB_TIMEOUT: Duration = Duration::from_secs(30);
/// The system bus socket when DBUS_SYSTEM_BUS_ADDRESS does not name another.
const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";

fn err(op: impl Into<String>, detail: impl Into<String>) -> crate::Error {
    crate::Error::sys(Step::Cgroup, SysError::check(op, None, detail))
}

/// Whether systemd is this host's init (sd_booted(3): it creates /run/systemd/system early).
pub(crate) fn systemd_booted() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// A connection to systemd's manager.
pub(crate) struct Systemd {
    conn: Connection,
}

impl std::fmt::Debug for Systemd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Systemd")
    }
}

impl Systemd {
    /// Connects to the system bus, with an error the user can act on when there is none.
    pub(crate) fn connect() -> crate::Result<Systemd> {
        if !systemd_booted() {
            return Err(no_systemd());
        }
        if std::env::var_os("DBUS_SYSTEM_BUS_ADDRESS").is_none() && !Path::new(SYSTEM_BUS).exists() {
            return Err(err(
                "connect to systemd",
                format!("no D-Bus system bus socket at {SYSTEM_BUS}: --systemd-cgroup needs dbus running"),
            ));
        }
        let conn = Connection::system().map_err(|e| err("connect to the D-Bus system bus", e.to_string()))?;
        Ok(Systemd { conn })
    }

    /// Connects to the caller's own systemd instance on the user bus (rootless, as runc), with
    /// errors the user can act on: no bus address, no socket, no systemd on that bus.
    pub(crate) fn connect_user() -> crate::Result<Systemd> {
        if !systemd_booted() {
            return Err(no_systemd());
        }
        let env = |k: &str| std::env::var(k).ok();
        let addr = super::user::bus_address(
            env("DBUS_SESSION_BUS_ADDRESS").as_deref(),
            env("XDG_RUNTIME_DIR").as_deref(),
            |p: &Path| p.exists(),
        )?;
        let mut builder = zbus::blocking::connection::Builder::address(addr.as_str())
            .map_err(|e| err("connect to the user D-Bus", format!("{addr}: {e}")))?;
        if crate::rootless::in_user_namespace() {
            let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
            if let Some(uid) = super::user::outer_uid(&map, nix::unistd::geteuid().as_raw()) {
                builder = builder.user_id(uid);
            }
        }
        let conn = builder.build().map_err(|e| err("connect to the user D-Bus", format!("{addr}: {e}")))?;
        let sd = Systemd { conn };
        // Asked now so that a bus without a systemd user instance is named as such.
        sd.version().map_err(|e| {
            err(
                "reach the systemd user instance",
                format!("{addr}: {e} (is user@$(id -u).service running? `loginctl enable-linger` starts it)"),
            )
        })?;
        Ok(sd)
    }

    /// The manager's own cgroup (`ControlGroup`): for a user instance, the user@UID.service
    /// cgroup its units live below.
    pub(crate) fn manager_cgroup(&self) -> crate::Result<String> {
        self.manager()?.get_property("ControlGroup").map_err(|e| err("read systemd's ControlGroup", e.to_string()))
    }

    fn manager(&self) -> crate::Result<Proxy<'_>> {
        Proxy::new(&self.conn, DEST, PATH, MANAGER).map_err(|e| err("systemd manager proxy", e.to_string()))
    }

    /// systemd's version number (`252` of "252.36-1~deb12u1").
    pub(crate) fn version(&self) -> crate::Result<u32> {
        let v: String =
            self.manager()?.get_property("Version").map_err(|e| err("read systemd's version", e.to_string()))?;
        Ok(v.trim_start_matches('v').chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0))
    }

    /// Starts a transient unit and waits for its job. A unit of that name that exists already is
    /// an error naming it (and `made` stays false: that unit is someone else's); a failed job
    /// reports systemd's result and the unit's failed state is reset so that the name can be
    /// used again.
    pub(crate) fn start_transient_unit(&self, unit: &str, props: &[Property], made: &Cell<bool>) -> crate::Result<()> {
        let watch = self.watch_jobs()?;
        let body = (unit, "replace", encode(props), Vec::<(&str, Vec<(&str, zvariant::Value<'_>)>)>::new());
        let job: Result<OwnedObjectPath, zbus::Error> = self.manager()?.call("StartTransientUnit", &body);
        let job = match job {
            Ok(j) => j,
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.UnitExists") => {
                return Err(err(
                    format!("start unit {unit}"),
                    format!("unit {unit} already exists (another container, or a leftover: `systemctl stop {unit}`)"),
                ))
            }
            Err(e) => return Err(err(format!("start unit {unit}"), e.to_string())),
        };
        made.set(true);
        match wait_job(watch, &job) {
            Ok(result) if result == "done" => Ok(()),
            other => {
                let _ = self.manager()?.call::<_, _, ()>("ResetFailedUnit", &(unit,));
                let why = match other {
                    Ok(result) => format!("systemd job for unit {unit} finished with result {result:?}"),
                    Err(e) => e,
                };
                Err(err(format!("start unit {unit}"), why))
            }
        }
    }

    /// Changes properties of a running unit (runtime only, as runc does).
    pub(crate) fn set_unit_properties(&self, unit: &str, props: &[Property]) -> crate::Result<()> {
        if props.is_empty() {
            return Ok(());
        }
        self.manager()?
            .call::<_, _, ()>("SetUnitProperties", &(unit, true, encode(props)))
            .map_err(|e| err(format!("set properties of unit {unit}"), e.to_string()))
    }

    /// Stops a unit and waits for the job; a unit that is not there is already stopped.
    pub(crate) fn stop_unit(&self, unit: &str) -> crate::Result<()> {
        let watch = self.watch_jobs()?;
        let job: Result<OwnedObjectPath, zbus::Error> = self.manager()?.call("StopUnit", &(unit, "replace"));
        match job {
            Ok(job) => match wait_job(watch, &job) {
                Ok(result) if result == "done" => Ok(()),
                Ok(result) => Err(err(format!("stop unit {unit}"), format!("systemd job result {result:?}"))),
                Err(e) => Err(err(format!("stop unit {unit}"), e)),
            },
            Err(e) if error_name(&e) == Some("org.freedesktop.systemd1.NoSuchUnit") => Ok(()),
            Err(e) => Err(err(format!("stop unit {unit}"), e.to_string())),
        }
    }

    /// Subscribes to JobRemoved before the call that makes the job, so the signal cannot be
    /// missed; the caller of a job gets it even without `Subscribe`, which is called anyway.
    fn watch_jobs(&self) -> crate::Result<MessageIterator> {
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(MANAGER)
            .and_then(|b| b.member("JobRemoved"))
            .and_then(|b| b.path(PATH))
            .map(|b| b.build())
            .map_err(|e| err("match JobRemoved", e.to_string()))?;
        let it = MessageIterator::for_match_rule(rule, &self.conn, Some(256))
            .map_err(|e| err("subscribe to systemd's JobRemoved", e.to_string()))?;
        let _ = self.manager()?.call::<_, _, ()>("Subscribe", &());
        Ok(it)
    }
}

pub(super) fn no_systemd() -> crate::Error {
    crate::Error::NotSupported(
        "--systemd-cgroup: systemd is not running on this host (no /run/systemd/system; PID 1 is not systemd)".into(),
    )
}

fn error_name(e: &zbus::Error) -> Option<&str> {
    match e {
        zbus::Error::MethodError(name, _, _) => Some(name.as_str()),
        _ => None,
    }
}

/// Waits for the JobRemoved signal of `job`: its result (`done`, `failed`, `timeout`...).
fn wait_job(watch: MessageIterator, job: &OwnedObjectPath) -> Result<String, String> {
    let (tx, rx) = mpsc::channel();
    let job = job.clone();
    std::thread::spawn(move || {
        for msg in watch {
            let Ok(msg) = msg else { continue };
            let body = msg.body();
            let Ok((_id, path, _unit, result)) = body.deserialize::<(u32, OwnedObjectPath, String, String)>() else {
                continue;
            };
            if path == job {
                let _ = tx.send(result);
                return;
            }
        }
    });
    rx.recv_timeout(JOB_TIMEOUT).map_err(|_| format!("no answer from systemd within {}s", JOB_TIMEOUT.as_secs()))
}

/// Properties as D-Bus `a(sv)`.
pub(crate) fn encode(props: &[Property]) -> Vec<(&str, zvariant::Value<'_>)> {
    props.iter().map(|p| (p.name.as_str(), to_variant(&p.value))).collect()
}

fn to_variant(v: &Value) -> zvariant::Value<'_> {
    match v {
        Value::Bool(b) => (*b).into(),
        Value::U64(n) => (*n).into(),
        Value::I64(n) => (*n).into(),
        Value::U32(n) => (*n).into(),
        Value::I32(n) => (*n).into(),
        Value::U16(n) => (*n).into(),
        Value::I16(n) => (*n).into(),
        Value::Byte(n) => (*n).into(),
        Value::F64(n) => (*n).into(),
        Value::Str(s) => s.as_str().into(),
        Value::U32s(a) => a.clone().into(),
        Value::Bytes(a) => a.clone().into(),
        Value::Strs(a) => a.clone().into(),
        Value::Pairs(a) => a.clone().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(v: Value) -> String {
        to_variant(&v).value_signature().to_string()
    }

    #[test]
    fn values_have_the_types_systemd_expects() {
        assert_eq!(sig(Value::U32s(vec![42])), "au");
        assert_eq!(sig(Value::Bytes(vec![0x0f])), "ay");
        assert_eq!(sig(Value::U64(1)), "t");
        assert_eq!(sig(Value::Bool(true)), "b");
        assert_eq!(sig(Value::Str("x".into())), "s");
        assert_eq!(sig(Value::Strs(vec![])), "as");
        // An empty DeviceAllow still carries its element type.
        assert_eq!(sig(Value::Pairs(vec![])), "a(ss)");
        assert_eq!(sig(Value::Pairs(vec![("/dev/char/1:3".into(), "rwm".into())])), "a(ss)");
    }

    #[test]
    fn start_transient_unit_body_encodes_as_its_signature() {
        use zbus::zvariant::{serialized::Context, to_bytes, Type, LE};
        let props = vec![
            Property { name: "PIDs".into(), value: Value::U32s(vec![7]), min_version: 0 },
            Property { name: "Delegate".into(), value: Value::Bool(true), min_version: 0 },
        ];
        let body = ("hull-c.scope", "replace", encode(&props), Vec::<(&str, Vec<(&str, zvariant::Value<'_>)>)>::new());
        let sig =
            <(&str, &str, Vec<(&str, zvariant::Value<'_>)>, Vec<(&str, Vec<(&str, zvariant::Value<'_>)>)>)>::SIGNATURE;
        assert_eq!(sig.to_string(), "(ssa(sv)a(sa(sv)))");
        let bytes = to_bytes(Context::new_dbus(LE, 0), &body).unwrap();
        // The unit name leads: a u32 length, the bytes and a NUL.
        assert_eq!(&bytes[..4], &12u32.to_le_bytes());
        assert_eq!(&bytes[4..16], b"hull-c.scope");
        // The pid is in there as a u32 after the "au" signature of its variant.
        let at = bytes.windows(3).position(|w| w == b"\x02au").expect("PIDs as au");
        assert!(bytes[at..].windows(4).any(|w| w == 7u32.to_le_bytes()));
    }
}

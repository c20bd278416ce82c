//! How two revisions of a schema differ, in the direction its values flow: type and
//! format, nullability, properties and `required`, `additionalProperties`, items, enum
//! values (open or closed) and bounds (`minimum`, `maximum`, lengths, `pattern`, defaults).

use serde_json::Value;

use super::{Bump, Cx, Dir, Severity, Subject, extensions, is_ref};
use crate::spec::{Additional, View};

impl<'a> Cx<'a> {
    pub(super) fn schema(&mut self, at: &str, o: &'a Value, n: &'a Value, dir: Dir, depth: usize) {
        if depth > 48 {
            return;
        }
        let ov = View::of(self.old, o);
        let nv = View::of(self.new, n);
        let mut at = at.to_owned();
        // Both sides are references: a component schema is compared once per direction and
        // its changes are reported under its own name.
        if let (true, true, Some(on), Some(nn)) = (is_ref(o), is_ref(n), ov.name, nv.name) {
            if on != nn {
                self.push(
                    Severity::Breaking,
                    &at,
                    format!("schema `{on}` replaced by `{nn}` (the Rust type changes)"),
                )
                .removes_item = true;
            }
            if !self.seen.insert((on.to_owned(), nn.to_owned(), dir)) {
                return;
            }
            at = nn.to_owned();
        }

        // Type.
        let (ot, nt) = (ov.effective_type(), nv.effective_type());
        if ot != nt {
            match (ot, nt) {
                (Some(_), None) if dir == Dir::Request => {
                    // The Rust type changes all the same.
                    self.push(
                        Severity::Addition,
                        &at,
                        "type constraint dropped (any value accepted; the Rust type changes)",
                    )
                    .rust = Bump::Major;
                }
                (Some("integer"), Some("number")) if dir == Dir::Request => {
                    self.push(
                        Severity::Breaking,
                        &at,
                        "type widened from integer to number (the Rust type changes)",
                    );
                }
                _ => {
                    self.push(
                        Severity::Breaking,
                        &at,
                        format!(
                            "type changed from {} to {}",
                            ot.unwrap_or("any"),
                            nt.unwrap_or("any")
                        ),
                    );
                }
            }
            return;
        }
        if ov.format != nv.format {
            self.push(
                Severity::Breaking,
                &at,
                format!(
                    "format changed from {} to {} (the Rust type may change)",
                    ov.format.unwrap_or("none"),
                    nv.format.unwrap_or("none")
                ),
            );
        }

        // Nullability.
        // A Rust field gains or loses its Option either way: major for Rust callers.
        match (ov.nullable, nv.nullable, dir) {
            (false, true, Dir::Response) => {
                self.push(
                    Severity::Breaking,
                    &at,
                    "may now be null (the Rust type changes)",
                );
            }
            (true, false, Dir::Request) => {
                self.push(Severity::Breaking, &at, "null is no longer accepted");
            }
            (false, true, Dir::Request) => {
                self.push(Severity::Addition, &at, "null is now accepted")
                    .rust = Bump::Major;
            }
            (true, false, Dir::Response) => {
                self.push(Severity::Addition, &at, "is never null any more")
                    .rust = Bump::Major;
            }
            _ => {}
        }
        extensions::deprecation(self, &at, Subject::Other, &ov.parts, &nv.parts);

        self.enumeration(&at, &ov, &nv, dir);
        self.bounds(&at, &ov, &nv, dir);

        // Properties.
        let subject = |name: &str| Subject::Property {
            schema: at.clone(),
            name: name.to_owned(),
        };
        for (name, op) in &ov.properties {
            let here = format!("{at}.{name}");
            match nv.properties.get(name) {
                None => {
                    let c = self.push(
                        Severity::Breaking,
                        &here,
                        match dir {
                            Dir::Response => "property removed (the Rust field disappears)",
                            Dir::Request => "property removed",
                        },
                    );
                    c.subject = subject(name);
                    c.removes_item = true;
                }
                Some(np) => {
                    let (was, is) = (ov.required.contains(name), nv.required.contains(name));
                    let c = match (was, is, dir) {
                        (true, false, Dir::Response) => Some(self.push(
                            Severity::Breaking,
                            &here,
                            "no longer required: it may be missing (the Rust field becomes an Option)",
                        )),
                        (false, true, Dir::Response) => {
                            let c = self.push(
                                Severity::Warning,
                                &here,
                                "now required (the Rust field loses its Option)",
                            );
                            c.rust = Bump::Major;
                            Some(c)
                        }
                        (false, true, Dir::Request) => {
                            Some(self.push(Severity::Breaking, &here, "property became required"))
                        }
                        (true, false, Dir::Request) => Some(self.push(
                            Severity::Addition,
                            &here,
                            "property is no longer required",
                        )),
                        _ => None,
                    };
                    if let Some(c) = c {
                        c.subject = subject(name);
                    }
                    let before = self.out.len();
                    self.schema(&here, op, np, dir, depth + 1);
                    // Changes found inside the property (not below a reference) are about it.
                    for c in &mut self.out[before..] {
                        if c.subject == Subject::Other && c.location == here {
                            c.subject = subject(name);
                        }
                    }
                }
            }
        }
        for name in nv.properties.keys() {
            if ov.properties.contains_key(name) {
                continue;
            }
            let here = format!("{at}.{name}");
            let c = if dir == Dir::Request && nv.required.contains(name) {
                self.push(Severity::Breaking, &here, "new required property")
            } else {
                let into = ov.parts.first().and_then(|p| p.get("properties"));
                let adopt = self.entry(into, name, nv.properties[name]);
                let c = self.push(Severity::Addition, &here, "new property");
                c.adopt = adopt;
                c
            };
            c.subject = subject(name);
        }
        if let (Additional::Schema(oa), Additional::Schema(na)) = (ov.additional, nv.additional) {
            self.schema(&format!("{at}.*"), oa, na, dir, depth + 1);
        }
        if let (Some(oi), Some(ni)) = (ov.items, nv.items) {
            self.schema(&format!("{at}[]"), oi, ni, dir, depth + 1);
        }
    }

    fn enumeration(&mut self, at: &str, ov: &View<'a>, nv: &View<'a>, dir: Dir) {
        let schema = nv
            .enumeration
            .and_then(|(_, n)| n)
            .or(ov.enumeration.and_then(|(_, n)| n))
            .map(str::to_owned);
        let name = schema
            .as_ref()
            .map(|n| format!(" of enum {n}"))
            .unwrap_or_default();
        let named = |v: &str| Subject::EnumValue {
            schema: schema.clone(),
            value: v.to_owned(),
        };
        let value = |v: &Value| named(&v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        match (ov.enumeration, nv.enumeration) {
            (Some((old, _)), Some((new, _))) => {
                for v in old.iter().filter(|v| !new.contains(v)) {
                    let c = match dir {
                        Dir::Request => self.push(
                            Severity::Breaking,
                            at,
                            format!("value {v}{name} removed (requests using it are refused)"),
                        ),
                        Dir::Response => {
                            let c = self.push(
                                Severity::Warning,
                                at,
                                format!(
                                    "value {v}{name} removed; response enums are open, so \
                                     clients still decode it, but code matching its variant \
                                     loses it"
                                ),
                            );
                            c.rust = Bump::Major;
                            c
                        }
                    };
                    c.subject = value(v);
                    c.removes_item = true;
                }
                for v in new.iter().filter(|v| !old.contains(v)) {
                    let adopt = (|| {
                        let list = |l: &Value| matches!(l, Value::Array(a) if std::ptr::eq(a.as_slice(), old));
                        Some(super::Adopt::Value {
                            into: crate::spec::pointer_to(self.old, &list)?,
                            from: self.new_at(v)?,
                        })
                    })();
                    let c = match dir {
                        Dir::Response if !nv.open => self.push(
                            Severity::Breaking,
                            at,
                            format!(
                                "new value {v}{name} may now be sent, and the enum is closed: \
                                 older clients refuse records that carry it"
                            ),
                        ),
                        Dir::Request => self.push(
                            Severity::Addition,
                            at,
                            format!("new value {v}{name} now accepted"),
                        ),
                        Dir::Response => self.push(
                            Severity::Addition,
                            at,
                            format!(
                                "new value {v}{name} may now be sent (older clients decode it \
                                 as Unknown)"
                            ),
                        ),
                    };
                    c.subject = value(v);
                    if c.severity == Severity::Addition {
                        c.adopt = adopt;
                    }
                }
                match (ov.open, nv.open, dir) {
                    (true, false, Dir::Response) => {
                        self.push(
                            Severity::Breaking,
                            at,
                            format!(
                                "the enum{name} is now closed: values it does not list, which \
                                 older descriptions allowed, now break the contract"
                            ),
                        )
                        .removes_item = true;
                    }
                    (false, true, Dir::Response) => {
                        self.push(
                            Severity::Warning,
                            at,
                            format!(
                                "the enum{name} is now open (its Rust type gains an Unknown variant)"
                            ),
                        )
                        .rust = Bump::Major;
                    }
                    _ => {}
                }
                let (od, nd) = (
                    ov.keyword(extensions::DEPRECATED_VALUES),
                    nv.keyword(extensions::DEPRECATED_VALUES),
                );
                extensions::deprecated_values(self, at, od, nd, named);
            }
            (None, Some(_)) => {
                let c = match dir {
                    Dir::Request => self.push(
                        Severity::Breaking,
                        at,
                        format!("now restricted to an enum{name}"),
                    ),
                    Dir::Response => self.push(
                        Severity::Warning,
                        at,
                        format!("now documented as an enum{name}"),
                    ),
                };
                c.rust = Bump::Major;
            }
            (Some(_), None) => match dir {
                Dir::Request => {
                    self.push(Severity::Addition, at, "no longer restricted to an enum")
                        .rust = Bump::Major;
                }
                Dir::Response => {
                    let c = self.push(
                        Severity::Warning,
                        at,
                        "no longer an enum (the Rust type changes)",
                    );
                    c.rust = Bump::Major;
                    c.removes_item = true;
                }
            },
            (None, None) => {}
        }
    }

    fn bounds(&mut self, at: &str, ov: &View<'a>, nv: &View<'a>, dir: Dir) {
        // (keyword, true when a larger value narrows)
        const LIMITS: &[(&str, bool)] = &[
            ("minimum", true),
            ("exclusiveMinimum", true),
            ("minLength", true),
            ("minItems", true),
            ("maximum", false),
            ("exclusiveMaximum", false),
            ("maxLength", false),
            ("maxItems", false),
        ];
        for (keyword, larger_narrows) in LIMITS {
            let (o, n) = (ov.keyword(keyword), nv.keyword(keyword));
            if o == n {
                continue;
            }
            let narrowed = match (o.and_then(Value::as_f64), n.and_then(Value::as_f64)) {
                (Some(o), Some(n)) => (n > o) == *larger_narrows,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                // Booleans (OpenAPI 3.0 exclusive flags): turning one on narrows.
                (None, None) => n == Some(&Value::Bool(true)),
            };
            let show = |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
            let message = format!("{keyword} changed from {} to {}", show(o), show(n));
            let severity = match (dir, narrowed) {
                (Dir::Request, true) => Severity::Breaking,
                (Dir::Request, false) => Severity::Addition,
                (Dir::Response, true) => Severity::Addition,
                (Dir::Response, false) => Severity::Warning,
            };
            let message = match severity {
                Severity::Breaking => {
                    format!("{message} (narrowed: values accepted before are refused)")
                }
                Severity::Warning => {
                    format!("{message} (widened: the API may send values outside the old range)")
                }
                Severity::Addition | Severity::Deprecation => message,
            };
            self.push(severity, at, message);
        }
        let (op, np) = (ov.keyword("pattern"), nv.keyword("pattern"));
        if op != np && self.keys_in_pattern.as_deref() != Some(at) {
            let show = |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
            let message = format!("pattern changed from {} to {}", show(op), show(np));
            match (dir, np) {
                (Dir::Request, Some(_)) => {
                    self.push(
                        Severity::Breaking,
                        at,
                        format!("{message} (values that matched may now be refused)"),
                    );
                }
                _ => {
                    self.push(Severity::Warning, at, message);
                }
            }
        }
        let (od, nd) = (ov.keyword("default"), nv.keyword("default"));
        if od != nd {
            let show = |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
            // In a request the server fills the default in; in a response the client does,
            // when the member is missing (the generated types decode it so).
            let effect = match dir {
                Dir::Request => "callers relying on it get other results",
                Dir::Response => "a missing value now reads differently",
            };
            self.push(
                Severity::Warning,
                at,
                format!(
                    "default changed from {} to {} ({effect})",
                    show(od),
                    show(nd)
                ),
            );
        }
    }
}

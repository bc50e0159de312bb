//! The preview's own reading of GRIB headers (GRIB1 sections 0–2, GRIB2 sections 0, 1, 3
//! and 4), for every message and every field of a multi-field GRIB2 message. The preview
//! needs only headers, so grids the decoder cannot unpack (reduced Gaussian, reduced
//! lat/lon, spherical harmonics, polar stereographic, Lambert) are described as `grib_ls`
//! describes them. Never trusting the file: every read is bounded by the message it belongs
//! to and by the file, sizes come from the file only through checked arithmetic, the
//! number of fields is capped by [`MAX_MESSAGES`](super::MAX_MESSAGES), and any
//! inconsistency is a [`NotGrib`].

use super::{MAX_MESSAGES, NotGrib};

/// What a field's grid says of its area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridHeader {
    /// Points along a parallel (`None`: missing, as on reduced grids).
    pub ni: Option<u32>,
    /// Points along a meridian.
    pub nj: Option<u32>,
    /// First and last grid point in micro-degrees: lat1, lon1, lat2, lon2 (lat/lon and
    /// Gaussian grids, regular, reduced or rotated; `None` for projections and spherical
    /// harmonics, where `grib_ls` has no last grid point either).
    pub corners: Option<[i64; 4]>,
    /// East-west increment in micro-degrees (`None`: missing, as on reduced grids).
    pub di: Option<i64>,
}

/// One field's header keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldHeader {
    /// 1 or 2.
    pub edition: u8,
    /// WMO centre number.
    pub centre: u16,
    /// Reference time: year, month, day, hour, minute, second.
    pub reference: [u16; 6],
    /// Forecast (end) step in hours, if the unit converts to hours.
    pub step_hours: Option<i64>,
    /// The grid (`None` for a GRIB1 message without a grid section).
    pub grid: Option<GridHeader>,
    /// GRIB2 discipline / category / number, or GRIB1 table version / None / indicator.
    pub parameter: (Option<u8>, Option<u8>, u8),
}

fn bad(what: &str) -> NotGrib {
    NotGrib(what.to_owned())
}

/// Bounded big-endian reads over one section or message.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// The unsigned integer at 1-based octets `at..at+n`.
    fn uint(&self, at: usize, n: usize) -> Result<u64, NotGrib> {
        let from = at.checked_sub(1).ok_or_else(|| bad("bad octet"))?;
        let b = self
            .0
            .get(from..from + n)
            .ok_or_else(|| bad("a header is cut"))?;
        Ok(b.iter().fold(0, |v, x| (v << 8) | u64::from(*x)))
    }
    fn u8(&self, at: usize) -> Result<u8, NotGrib> {
        Ok(self.uint(at, 1)? as u8)
    }
    fn u16(&self, at: usize) -> Result<u16, NotGrib> {
        Ok(self.uint(at, 2)? as u16)
    }
    /// Sign and magnitude (GRIB's signed integers), `n` octets.
    fn signed(&self, at: usize, n: usize) -> Result<i64, NotGrib> {
        let v = self.uint(at, n)?;
        let sign = 1u64 << (8 * n - 1);
        let magnitude = (v & (sign - 1)) as i64;
        Ok(if v & sign != 0 { -magnitude } else { magnitude })
    }
    /// `None` if every bit of the `n` octets is set (GRIB's "missing").
    fn opt(&self, at: usize, n: usize) -> Result<Option<u64>, NotGrib> {
        let v = self.uint(at, n)?;
        Ok((v != (1u64 << (8 * n)) - 1).then_some(v))
    }
}

/// Every field of every message of `bytes`, in file order. Bytes between messages are
/// skipped as ecCodes skips them.
///
/// # Errors
/// [`NotGrib`] if a message is cut, inconsistent, of an unknown edition, or if there are
/// more than [`MAX_MESSAGES`] fields.
pub fn fields(bytes: &[u8]) -> Result<Vec<FieldHeader>, NotGrib> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(at) = bytes
        .get(pos..)
        .and_then(|rest| rest.windows(4).position(|w| w == b"GRIB"))
    {
        let start = pos + at;
        let head = Reader(&bytes[start..]);
        let edition = head.u8(8)?;
        let len = match edition {
            1 => {
                let l = head.uint(5, 3)?;
                if l & 0x80_0000 != 0 {
                    return Err(bad("a GRIB1 message over 8 MiB (scaled length)"));
                }
                l
            }
            2 => head.uint(9, 8)?,
            e => return Err(NotGrib(format!("GRIB edition {e}"))),
        };
        let len = usize::try_from(len).map_err(|_| bad("message length"))?;
        let end = start
            .checked_add(len)
            .filter(|e| *e <= bytes.len() && len >= 16)
            .ok_or_else(|| NotGrib(format!("truncated: the message at byte {start} is cut")))?;
        let message = &bytes[start..end];
        if !message.ends_with(b"7777") {
            return Err(NotGrib(format!(
                "the message at byte {start} has no end mark"
            )));
        }
        if edition == 1 {
            out.push(grib1(message)?);
        } else {
            grib2(message, &mut out)?;
        }
        if out.len() > MAX_MESSAGES {
            return Err(NotGrib(format!("over {MAX_MESSAGES} messages")));
        }
        pos = end;
    }
    if out.is_empty() {
        return Err(bad("no message"));
    }
    Ok(out)
}

fn section(message: &[u8], at: usize, len_octets: usize) -> Result<&[u8], NotGrib> {
    let len =
        Reader(message.get(at..).ok_or_else(|| bad("a section is cut"))?).uint(1, len_octets)?;
    let len = usize::try_from(len).map_err(|_| bad("section length"))?;
    if len < len_octets + 1 {
        return Err(bad("a section is too short"));
    }
    at.checked_add(len)
        .and_then(|end| message.get(at..end))
        .ok_or_else(|| bad("a section runs past its message"))
}

fn grib1(message: &[u8]) -> Result<FieldHeader, NotGrib> {
    let pds = section(message, 8, 3)?;
    let p = Reader(pds);
    let flags = p.u8(8)?;
    let century = u16::from(p.u8(25)?);
    let year = century.saturating_sub(1) * 100 + u16::from(p.u8(13)?);
    let (p1, p2) = (i64::from(p.u8(19)?), i64::from(p.u8(20)?));
    let steps = match p.u8(21)? {
        0 | 1 => p1,
        10 => p1 * 256 + p2,
        _ => p2,
    };
    let step_hours = match p.u8(18)? {
        0 => Some(steps / 60),
        1 => Some(steps),
        2 => Some(steps * 24),
        10 => Some(steps * 3),
        11 => Some(steps * 6),
        12 => Some(steps * 12),
        254 => Some(steps / 3600),
        _ => None,
    };
    let grid = if flags & 0x80 != 0 {
        Some(grib1_grid(section(message, 8 + pds.len(), 3)?)?)
    } else {
        None
    };
    Ok(FieldHeader {
        edition: 1,
        centre: u16::from(p.u8(5)?),
        reference: [
            year,
            u16::from(p.u8(14)?),
            u16::from(p.u8(15)?),
            u16::from(p.u8(16)?),
            u16::from(p.u8(17)?),
            0,
        ],
        step_hours,
        grid,
        parameter: (Some(p.u8(4)?), None, p.u8(9)?),
    })
}

fn grib1_grid(gds: &[u8]) -> Result<GridHeader, NotGrib> {
    let g = Reader(gds);
    let kind = g.u8(6)?;
    let n = |at| -> Result<Option<u32>, NotGrib> { Ok(g.opt(at, 2)?.map(|v| v as u32)) };
    match kind {
        // lat/lon, Gaussian, rotated lat/lon, rotated Gaussian (regular or reduced)
        0 | 4 | 10 | 14 => {
            let milli = |at| -> Result<i64, NotGrib> { Ok(g.signed(at, 3)? * 1000) };
            let given = g.u8(17)? & 0x80 != 0;
            let di = if given {
                g.opt(24, 2)?.map(|v| v as i64 * 1000)
            } else {
                None
            };
            Ok(GridHeader {
                ni: n(7)?,
                nj: n(9)?,
                corners: Some([milli(11)?, milli(14)?, milli(18)?, milli(21)?]),
                di,
            })
        }
        // polar stereographic, Lambert: a projection, no last grid point
        3 | 5 => Ok(GridHeader {
            ni: n(7)?,
            nj: n(9)?,
            corners: None,
            di: None,
        }),
        _ => Ok(GridHeader {
            ni: None,
            nj: None,
            corners: None,
            di: None,
        }),
    }
}

fn grib2(message: &[u8], out: &mut Vec<FieldHeader>) -> Result<(), NotGrib> {
    let s0 = Reader(message);
    let discipline = s0.u8(7)?;
    let mut at = 16;
    let s1 = section(message, at, 4)?;
    let r = Reader(s1);
    if r.u8(5)? != 1 {
        return Err(bad("GRIB2 section 1 missing"));
    }
    let centre = r.u16(6)?;
    let reference = [
        r.u16(13)?,
        u16::from(r.u8(15)?),
        u16::from(r.u8(16)?),
        u16::from(r.u8(17)?),
        u16::from(r.u8(18)?),
        u16::from(r.u8(19)?),
    ];
    at += s1.len();
    let (mut grid, mut product) = (None, None);
    loop {
        if message.get(at..at + 4) == Some(b"7777".as_slice()) {
            return Ok(());
        }
        let s = section(message, at, 4)?;
        let r = Reader(s);
        match r.u8(5)? {
            2 | 5 | 6 => {}
            3 => grid = Some(grib2_grid(&r)?),
            4 => product = Some(grib2_product(&r)?),
            7 => {
                let ((category, number), step_hours) =
                    product.ok_or_else(|| bad("a GRIB2 field without section 4"))?;
                out.push(FieldHeader {
                    edition: 2,
                    centre,
                    reference,
                    step_hours,
                    grid: Some(grid.ok_or_else(|| bad("a GRIB2 field without section 3"))?),
                    parameter: (Some(discipline), Some(category), number),
                });
                if out.len() > MAX_MESSAGES {
                    return Err(NotGrib(format!("over {MAX_MESSAGES} messages")));
                }
            }
            n => return Err(NotGrib(format!("GRIB2 section {n}"))),
        }
        at += s.len();
    }
}

fn grib2_grid(r: &Reader<'_>) -> Result<GridHeader, NotGrib> {
    let template = r.u16(13)?;
    let n = |at| -> Result<Option<u32>, NotGrib> { Ok(r.opt(at, 4)?.map(|v| v as u32)) };
    match template {
        // lat/lon, rotated lat/lon, Gaussian, rotated Gaussian (regular or reduced)
        0 | 1 | 40 | 41 => {
            // angles in micro-degrees unless a basic angle and subdivisions are given
            let (basic, sub) = (r.opt(39, 4)?.unwrap_or(0), r.opt(43, 4)?.unwrap_or(0));
            let udeg = |v: i64| -> i64 {
                if basic == 0 || sub == 0 {
                    v
                } else {
                    (v as i128 * basic as i128 * 1_000_000 / sub as i128) as i64
                }
            };
            let angle = |at| -> Result<i64, NotGrib> { Ok(udeg(r.signed(at, 4)?)) };
            let di = r.opt(64, 4)?.map(|v| udeg(v as i64));
            Ok(GridHeader {
                ni: n(31)?,
                nj: n(35)?,
                corners: Some([angle(47)?, angle(51)?, angle(56)?, angle(60)?]),
                di: if r.u8(55)? & 0x20 != 0 { di } else { None },
            })
        }
        // polar stereographic, Lambert conformal
        20 | 30 => Ok(GridHeader {
            ni: n(31)?,
            nj: n(35)?,
            corners: None,
            di: None,
        }),
        _ => Ok(GridHeader {
            ni: None,
            nj: None,
            corners: None,
            di: None,
        }),
    }
}

/// Category and number, and the end step in hours.
type Product = ((u8, u8), Option<i64>);

fn grib2_product(r: &Reader<'_>) -> Result<Product, NotGrib> {
    let template = r.u16(8)?;
    let parameter = (r.u8(10)?, r.u8(11)?);
    // the templates of a forecast at a point in time or over a time interval share the
    // layout up to the forecast time; the others (chemistry, radar…) have no plain step
    if !matches!(template, 0..=15) {
        return Ok((parameter, None));
    }
    let to_hours = |unit: u8, v: i64| match unit {
        0 => Some(v / 60),
        1 => Some(v),
        2 => Some(v * 24),
        10 => Some(v * 3),
        11 => Some(v * 6),
        12 => Some(v * 12),
        13 => Some(v / 3600),
        _ => None,
    };
    let start = to_hours(r.u8(18)?, r.signed(19, 4)?);
    // statistically processed: the step ends where the (first) time range ends
    let range_at = match template {
        8 => Some(47),
        9 => Some(60),
        10 => Some(48),
        11 => Some(50),
        12 => Some(49),
        _ => None,
    };
    let step = match range_at {
        Some(at) => match (start, to_hours(r.u8(at + 2)?, r.uint(at + 3, 4)? as i64)) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        },
        None => start,
    };
    Ok((parameter, step))
}

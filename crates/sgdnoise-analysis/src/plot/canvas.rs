//! A figure as a list of drawing primitives in figure units (y down; one unit is one pixel of
//! the screen PNG, 1/150 inch), written by the renderers `svg`, `pdf` and `raster`.
//!
//! Dashes are cut here into solid pieces, and labels into runs of text (sub- and superscripts,
//! see `font`), so that the renderers only know polylines, polygons, circles and plain text.

use super::color::Rgb;
use super::font::{self, CAP_HEIGHT};

/// A point in figure units.
pub(super) type P = (f64, f64);

/// A rectangle in figure units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect {
        Rect {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
        }
    }
    pub fn w(&self) -> f64 {
        self.x1 - self.x0
    }
    pub fn h(&self) -> f64 {
        self.y1 - self.y0
    }
    pub fn contains(&self, (x, y): P) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// One drawing primitive.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Prim {
    /// An open polyline, round joins, butt ends.
    Stroke {
        pts: Vec<P>,
        color: Rgb,
        width: f64,
        alpha: f64,
    },
    /// A closed polygon, filled (nonzero rule).
    Fill { pts: Vec<P>, color: Rgb, alpha: f64 },
    /// The union of closed polygons, each turned counter-clockwise on screen so that the
    /// nonzero rule fills their union once (no darker overlaps).
    Union {
        contours: Vec<Vec<P>>,
        color: Rgb,
        alpha: f64,
    },
    Circle {
        c: P,
        r: f64,
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f64)>,
    },
    /// Plain text starting at `at` on its baseline; `up`: rotated to read upwards.
    Text {
        at: P,
        text: String,
        size: f64,
        color: Rgb,
        up: bool,
    },
    /// Clips what follows to a rectangle (None: no clip).
    Clip(Option<Rect>),
}

/// How a line is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dash {
    Solid,
    /// Dashes of `on` units with gaps of `off` units.
    Dashed(f64, f64),
}

impl Dash {
    /// Fitted laws.
    pub const FIT: Dash = Dash::Dashed(9.0, 5.0);
    /// Theory and reference lines.
    pub const THEORY: Dash = Dash::Dashed(2.0, 3.0);
}

/// Where a label's anchor point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum H {
    Start,
    Middle,
    End,
}

/// The vertical place of a label's anchor point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum V {
    /// On the baseline.
    Base,
    /// Half the cap height above the baseline.
    Middle,
    /// At the cap height.
    Top,
}

/// A figure being drawn.
#[derive(Clone, Debug)]
pub(super) struct Canvas {
    pub w: f64,
    pub h: f64,
    pub prims: Vec<Prim>,
}

impl Canvas {
    pub fn new(w: f64, h: f64) -> Canvas {
        Canvas {
            w,
            h,
            prims: Vec::new(),
        }
    }

    pub fn clip(&mut self, r: Option<Rect>) {
        self.prims.push(Prim::Clip(r));
    }

    /// A polyline; dashed ones are cut into solid pieces (the pattern runs on over corners).
    pub fn line(&mut self, pts: &[P], color: Rgb, width: f64, dash: Dash) {
        self.line_alpha(pts, color, width, dash, 1.0);
    }

    pub fn line_alpha(&mut self, pts: &[P], color: Rgb, width: f64, dash: Dash, alpha: f64) {
        let pts: Vec<P> = pts
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if pts.len() < 2 {
            return;
        }
        match dash {
            Dash::Solid => self.prims.push(Prim::Stroke {
                pts,
                color,
                width,
                alpha,
            }),
            Dash::Dashed(on, off) => {
                for piece in dash_pieces(&pts, on, off) {
                    self.prims.push(Prim::Stroke {
                        pts: piece,
                        color,
                        width,
                        alpha,
                    });
                }
            }
        }
    }

    pub fn fill(&mut self, pts: &[P], color: Rgb, alpha: f64) {
        let pts: Vec<P> = pts
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if pts.len() >= 3 {
            self.prims.push(Prim::Fill { pts, color, alpha });
        }
    }

    /// Fills the union of `contours` (each a closed polygon) once.
    pub fn union(&mut self, contours: &[Vec<P>], color: Rgb, alpha: f64) {
        let contours: Vec<Vec<P>> = contours
            .iter()
            .map(|c| {
                let mut c: Vec<P> = c
                    .iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect();
                if signed_area(&c) < 0.0 {
                    c.reverse();
                }
                c
            })
            .filter(|c| c.len() >= 3)
            .collect();
        if !contours.is_empty() {
            self.prims.push(Prim::Union {
                contours,
                color,
                alpha,
            });
        }
    }

    pub fn rect_fill(&mut self, r: Rect, color: Rgb, alpha: f64) {
        self.fill(
            &[(r.x0, r.y0), (r.x1, r.y0), (r.x1, r.y1), (r.x0, r.y1)],
            color,
            alpha,
        );
    }

    pub fn rect_stroke(&mut self, r: Rect, color: Rgb, width: f64) {
        self.line(
            &[
                (r.x0, r.y0),
                (r.x1, r.y0),
                (r.x1, r.y1),
                (r.x0, r.y1),
                (r.x0, r.y0),
            ],
            color,
            width,
            Dash::Solid,
        );
    }

    pub fn circle(&mut self, c: P, r: f64, fill: Option<Rgb>, stroke: Option<(Rgb, f64)>) {
        if c.0.is_finite() && c.1.is_finite() {
            self.prims.push(Prim::Circle { c, r, fill, stroke });
        }
    }

    /// A label (markup, see `font`) anchored at `at`; returns its box.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        markup: &str,
        at: P,
        size: f64,
        color: Rgb,
        h: H,
        v: V,
        up: bool,
    ) -> Rect {
        let w = font::width(markup, size);
        let along = match h {
            H::Start => 0.0,
            H::Middle => -w / 2.0,
            H::End => -w,
        };
        let drop = match v {
            V::Base => 0.0,
            V::Middle => CAP_HEIGHT * size / 2.0,
            V::Top => CAP_HEIGHT * size,
        };
        // Baseline origin, the direction of writing and "up" of the letters.
        let (dir, upv) = if up {
            ((0.0, -1.0), (-1.0, 0.0))
        } else {
            ((1.0, 0.0), (0.0, -1.0))
        };
        let o = (
            at.0 + dir.0 * along - upv.0 * drop,
            at.1 + dir.1 * along - upv.1 * drop,
        );
        for r in font::runs(markup, size) {
            self.prims.push(Prim::Text {
                at: (
                    o.0 + dir.0 * r.dx + upv.0 * r.rise,
                    o.1 + dir.1 * r.dx + upv.1 * r.rise,
                ),
                text: r.text,
                size: r.size,
                color,
                up,
            });
        }
        // The box from the descender to the ascender (0.76 em / 0.24 em).
        let (a, d) = (0.76 * size, 0.24 * size);
        if up {
            Rect::new(o.0 - a, o.1 - w, o.0 + d, o.1)
        } else {
            Rect::new(o.0, o.1 - a, o.0 + w, o.1 + d)
        }
    }
}

/// Twice the signed area of a polygon (positive: counter-clockwise with y up).
pub(super) fn signed_area(pts: &[P]) -> f64 {
    (0..pts.len())
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// The solid pieces of a dashed polyline.
fn dash_pieces(pts: &[P], on: f64, off: f64) -> Vec<Vec<P>> {
    let (on, off) = (on.max(0.1), off.max(0.1));
    let mut out = Vec::new();
    let mut cur: Vec<P> = vec![pts[0]];
    let mut drawing = true;
    let mut left = on;
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut t = 0.0;
        while len - t > left {
            t += left;
            let p = (a.0 + (b.0 - a.0) * t / len, a.1 + (b.1 - a.1) * t / len);
            if drawing {
                cur.push(p);
                out.push(std::mem::take(&mut cur));
                left = off;
            } else {
                cur = vec![p];
                left = on;
            }
            drawing = !drawing;
        }
        left -= len - t;
        if drawing {
            cur.push(b);
        }
    }
    if drawing && cur.len() >= 2 {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_alternate_with_the_pattern() {
        let pieces = dash_pieces(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], 3.0, 2.0);
        // 20 units along the path: on 0-3, 5-8, 10-13 (round the corner), 15-18.
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces[0], vec![(0.0, 0.0), (3.0, 0.0)]);
        assert_eq!(pieces[1], vec![(5.0, 0.0), (8.0, 0.0)]);
        assert_eq!(pieces[2], vec![(10.0, 0.0), (10.0, 3.0)]);
        assert_eq!(pieces[3], vec![(10.0, 5.0), (10.0, 8.0)]);
    }

    #[test]
    fn labels_are_anchored_where_asked() {
        let mut c = Canvas::new(100.0, 100.0);
        let r = c.text(
            "ab",
            (50.0, 50.0),
            10.0,
            Rgb(0, 0, 0),
            H::End,
            V::Base,
            false,
        );
        assert!((r.x1 - 50.0).abs() < 1e-9 && r.x0 < 50.0);
        let r = c.text(
            "ab",
            (50.0, 50.0),
            10.0,
            Rgb(0, 0, 0),
            H::Middle,
            V::Middle,
            true,
        );
        // Rotated: centred on y, letters to the left of x + half the cap height.
        assert!(((r.y0 + r.y1) / 2.0 - 50.0).abs() < 1e-9);
        assert!(r.x0 < 50.0 && r.x1 > 50.0);
    }
}

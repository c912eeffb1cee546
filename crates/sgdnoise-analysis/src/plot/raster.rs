//! PNG output: the primitives of a [`Canvas`] rasterised with anti-aliasing (coverage from
//! `ab_glyph_rasterizer`, the rasteriser of the font crate), text from the embedded font's
//! outlines, then encoded by `png` with the resolution recorded (pHYs).

use super::canvas::{signed_area, Canvas, Prim, Rect, P};
use super::color::{Rgb, WHITE};
use super::font::{self, units_per_em};
use ab_glyph::{Font, OutlineCurve};
use ab_glyph_rasterizer::{point, Point, Rasterizer};
use std::path::Path;

/// An RGB image being painted.
struct Image {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
    clip: Option<(usize, usize, usize, usize)>,
    ras: Rasterizer,
}

/// One shape to fill, in pixels: closed polygons (clipped to the clip rectangle before they
/// are rasterised, as the rasteriser needs every edge inside its area) and glyph curves.
#[derive(Default)]
struct Shape {
    polys: Vec<Vec<P>>,
    curves: Vec<Edge>,
}

enum Edge {
    Line(Point, Point),
    Quad(Point, Point, Point),
    Cubic(Point, Point, Point, Point),
}

impl Shape {
    fn polygon(&mut self, pts: &[P]) {
        if pts.len() >= 3 {
            self.polys.push(pts.to_vec());
        }
    }
    /// `pts` with positive signed area (so that overlapping pieces add up, never cancel).
    fn positive_polygon(&mut self, pts: &[P]) {
        if signed_area(pts) < 0.0 {
            let rev: Vec<P> = pts.iter().rev().copied().collect();
            self.polygon(&rev);
        } else {
            self.polygon(pts);
        }
    }
}

/// Sutherland-Hodgman: the part of a closed polygon inside the rectangle (x0, y0, x1, y1).
fn clip_polygon(pts: &[P], (x0, y0, x1, y1): (f64, f64, f64, f64)) -> Vec<P> {
    let at_x = |a: P, b: P, x: f64| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
    let at_y = |a: P, b: P, y: f64| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
    let out = clip_side(pts, |p| p.0 >= x0, |a, b| at_x(a, b, x0));
    let out = clip_side(&out, |p| p.0 <= x1, |a, b| at_x(a, b, x1));
    let out = clip_side(&out, |p| p.1 >= y0, |a, b| at_y(a, b, y0));
    clip_side(&out, |p| p.1 <= y1, |a, b| at_y(a, b, y1))
}

/// One step of Sutherland-Hodgman: the polygon cut by one half-plane.
fn clip_side(input: &[P], inside: impl Fn(P) -> bool, cut: impl Fn(P, P) -> P) -> Vec<P> {
    let mut out = Vec::with_capacity(input.len() + 2);
    for i in 0..input.len() {
        let (a, b) = (input[(i + input.len() - 1) % input.len()], input[i]);
        match (inside(a), inside(b)) {
            (true, true) => out.push(b),
            (true, false) => out.push(cut(a, b)),
            (false, true) => {
                out.push(cut(a, b));
                out.push(b);
            }
            (false, false) => {}
        }
    }
    out
}

fn pt(p: P) -> Point {
    point(p.0 as f32, p.1 as f32)
}

/// A circle as a polygon fine enough at radius `r` pixels.
fn circle_pts(c: P, r: f64) -> Vec<P> {
    let n = ((r * 2.0).ceil() as usize).clamp(12, 96);
    (0..n)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / n as f64;
            (c.0 + r * a.cos(), c.1 + r * a.sin())
        })
        .collect()
}

impl Image {
    fn new(w: usize, h: usize) -> Image {
        Image {
            w,
            h,
            px: vec![WHITE.unit(); w * h],
            clip: None,
            ras: Rasterizer::new(1, 1),
        }
    }

    fn fill(&mut self, shape: &Shape, color: Rgb, alpha: f64) {
        let (cx0, cy0, cx1, cy1) = self.clip.unwrap_or((0, 0, self.w, self.h));
        let area = (cx0 as f64, cy0 as f64, cx1 as f64, cy1 as f64);
        let polys: Vec<Vec<P>> = shape
            .polys
            .iter()
            .map(|p| clip_polygon(p, area))
            .filter(|p| p.len() >= 3)
            .collect();
        let mut b = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        let mut add = |x: f64, y: f64| {
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        };
        polys.iter().flatten().for_each(|p| add(p.0, p.1));
        for e in &shape.curves {
            let pts: &[&Point] = match e {
                Edge::Line(a, c) => &[a, c],
                Edge::Quad(a, c, d) => &[a, c, d],
                Edge::Cubic(a, c, d, f) => &[a, c, d, f],
            };
            pts.iter().for_each(|p| add(p.x as f64, p.y as f64));
        }
        if !(b.0.is_finite() && b.2 > b.0 && b.3 > b.1) {
            return;
        }
        let bx0 = (b.0.floor().max(0.0) as usize).max(cx0);
        let by0 = (b.1.floor().max(0.0) as usize).max(cy0);
        let bx1 = ((b.2.ceil() + 1.0).max(0.0) as usize).min(cx1);
        let by1 = ((b.3.ceil() + 1.0).max(0.0) as usize).min(cy1);
        if bx1 <= bx0 || by1 <= by0 {
            return;
        }
        let (bw, bh) = (bx1 - bx0, by1 - by0);
        self.ras.reset(bw, bh);
        let (ox, oy) = (bx0 as f32, by0 as f32);
        let o = |p: &Point| point(p.x - ox, p.y - oy);
        for poly in &polys {
            for i in 0..poly.len() {
                let (a, c) = (pt(poly[i]), pt(poly[(i + 1) % poly.len()]));
                self.ras.draw_line(o(&a), o(&c));
            }
        }
        for e in &shape.curves {
            match e {
                Edge::Line(a, b) => self.ras.draw_line(o(a), o(b)),
                Edge::Quad(a, b, c) => self.ras.draw_quad(o(a), o(b), o(c)),
                Edge::Cubic(a, b, c, d) => self.ras.draw_cubic(o(a), o(b), o(c), o(d)),
            }
        }
        let col = color.unit();
        let alpha = alpha.clamp(0.0, 1.0) as f32;
        let (w, px) = (self.w, &mut self.px);
        self.ras.for_each_pixel_2d(|x, y, cov| {
            let a = cov.min(1.0) * alpha;
            if a > 0.0 {
                let p = &mut px[(by0 + y as usize) * w + bx0 + x as usize];
                for k in 0..3 {
                    p[k] += (col[k] - p[k]) * a;
                }
            }
        });
    }

    fn stroke(&mut self, pts: &[P], width: f64, color: Rgb, alpha: f64) {
        let hw = (width / 2.0).max(0.35);
        let mut shape = Shape::default();
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len = (dx * dx + dy * dy).sqrt();
            if len < 1e-9 {
                continue;
            }
            let (nx, ny) = (-dy / len * hw, dx / len * hw);
            shape.positive_polygon(&[
                (a.0 + nx, a.1 + ny),
                (b.0 + nx, b.1 + ny),
                (b.0 - nx, b.1 - ny),
                (a.0 - nx, a.1 - ny),
            ]);
        }
        // Round joins.
        if hw > 0.75 {
            for p in &pts[1..pts.len().saturating_sub(1)] {
                shape.positive_polygon(&circle_pts(*p, hw));
            }
        }
        self.fill(&shape, color, alpha);
    }

    fn circle(&mut self, c: P, r: f64, fill: Option<Rgb>, stroke: Option<(Rgb, f64)>) {
        if let Some(f) = fill {
            let mut s = Shape::default();
            s.positive_polygon(&circle_pts(c, r));
            self.fill(&s, f, 1.0);
        }
        if let Some((col, w)) = stroke {
            // A ring: the outer circle, and the inner one the other way round.
            let mut s = Shape::default();
            s.positive_polygon(&circle_pts(c, r + w / 2.0));
            let mut inner = circle_pts(c, (r - w / 2.0).max(0.0));
            inner.reverse();
            s.polygon(&inner);
            self.fill(&s, col, 1.0);
        }
    }

    fn text(&mut self, at: P, text: &str, size: f64, color: Rgb, up: bool) {
        let f = font::font();
        let k = size / units_per_em();
        let mut shape = Shape::default();
        let mut x = 0.0;
        for g in font::layout(text) {
            x += g.kern;
            if let Some(outline) = f.outline(g.id) {
                // Font units (y up) -> figure pixels (y down), along the writing direction.
                let map = |p: &Point| -> Point {
                    let (u, v) = ((x + p.x as f64) * k, p.y as f64 * k);
                    if up {
                        point((at.0 - v) as f32, (at.1 - u) as f32)
                    } else {
                        point((at.0 + u) as f32, (at.1 - v) as f32)
                    }
                };
                for c in &outline.curves {
                    shape.curves.push(match c {
                        OutlineCurve::Line(a, b) => Edge::Line(map(a), map(b)),
                        OutlineCurve::Quad(a, b, c) => Edge::Quad(map(a), map(b), map(c)),
                        OutlineCurve::Cubic(a, b, c, d) => {
                            Edge::Cubic(map(a), map(b), map(c), map(d))
                        }
                    });
                }
            }
            x += g.advance;
        }
        self.fill(&shape, color, 1.0);
    }
}

/// Paints `canvas` at `scale` pixels per figure unit.
fn paint(canvas: &Canvas, scale: f64) -> Image {
    let (w, h) = (
        (canvas.w * scale).round() as usize,
        (canvas.h * scale).round() as usize,
    );
    let mut img = Image::new(w.max(1), h.max(1));
    let s = |p: &P| (p.0 * scale, p.1 * scale);
    for prim in &canvas.prims {
        match prim {
            Prim::Stroke {
                pts,
                color,
                width,
                alpha,
            } => {
                let pts: Vec<P> = pts.iter().map(s).collect();
                img.stroke(&pts, width * scale, *color, *alpha);
            }
            Prim::Fill { pts, color, alpha } => {
                let mut shape = Shape::default();
                let pts: Vec<P> = pts.iter().map(s).collect();
                shape.polygon(&pts);
                img.fill(&shape, *color, *alpha);
            }
            Prim::Union {
                contours,
                color,
                alpha,
            } => {
                let mut shape = Shape::default();
                for c in contours {
                    let pts: Vec<P> = c.iter().map(s).collect();
                    shape.positive_polygon(&pts);
                }
                img.fill(&shape, *color, *alpha);
            }
            Prim::Circle { c, r, fill, stroke } => img.circle(
                s(c),
                r * scale,
                *fill,
                stroke.map(|(col, w)| (col, w * scale)),
            ),
            Prim::Text {
                at,
                text,
                size,
                color,
                up,
            } => img.text(s(at), text, size * scale, *color, *up),
            Prim::Clip(r) => {
                img.clip = r.map(|r: Rect| {
                    (
                        (r.x0 * scale).floor().max(0.0) as usize,
                        (r.y0 * scale).floor().max(0.0) as usize,
                        ((r.x1 * scale).ceil().max(0.0) as usize).min(w),
                        ((r.y1 * scale).ceil().max(0.0) as usize).min(h),
                    )
                })
            }
        }
    }
    img
}

/// Writes `canvas` as an 8-bit RGB PNG at `scale` pixels per figure unit, recording
/// `150 * scale` dots per inch.
pub(super) fn write_png(canvas: &Canvas, scale: f64, path: &Path) -> Result<(), String> {
    let img = paint(canvas, scale);
    let data: Vec<u8> = img
        .px
        .iter()
        .flat_map(|p| p.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8))
        .collect();
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), img.w as u32, img.h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let dpm = (super::DPI * scale / 0.0254).round() as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: dpm,
        yppu: dpm,
        unit: png::Unit::Meter,
    }));
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(&data).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())
}

#[cfg(test)]
pub(super) fn pixels(canvas: &Canvas, scale: f64) -> (usize, usize, Vec<[u8; 3]>) {
    let img = paint(canvas, scale);
    let px = img
        .px
        .iter()
        .map(|p| p.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8))
        .collect();
    (img.w, img.h, px)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::canvas::{Dash, H, V};
    use crate::plot::color::BLACK;

    #[test]
    fn shapes_are_painted_where_they_are() {
        let mut c = Canvas::new(40.0, 20.0);
        c.rect_fill(Rect::new(0.0, 0.0, 10.0, 10.0), Rgb(255, 0, 0), 1.0);
        c.line(&[(20.0, 5.0), (38.0, 5.0)], BLACK, 2.0, Dash::Solid);
        c.circle((30.0, 15.0), 3.0, None, Some((BLACK, 1.0)));
        let (w, h, px) = pixels(&c, 1.0);
        assert_eq!((w, h), (40, 20));
        let at = |x: usize, y: usize| px[y * w + x];
        assert_eq!(at(5, 5), [255, 0, 0]);
        assert_eq!(at(15, 5), [255, 255, 255]);
        // The 2-unit line covers rows 4 and 5 fully.
        assert_eq!(at(25, 4), [0, 0, 0]);
        assert_eq!(at(25, 5), [0, 0, 0]);
        assert_eq!(at(25, 8), [255, 255, 255]);
        // An open circle: ink on the ring, paper inside.
        assert!(at(30, 12)[0] < 128, "{:?}", at(30, 12));
        assert_eq!(at(30, 15), [255, 255, 255]);
        // Twice the scale: twice the pixels.
        assert_eq!(pixels(&c, 2.0).0, 80);
    }

    #[test]
    fn shapes_reaching_out_of_the_clip_are_cut_not_smeared() {
        // A long thin diagonal far beyond a small clip: the rasteriser must only see the part
        // inside, else coverage leaks along the rows (the heatmap-hatching defect).
        let mut c = Canvas::new(40.0, 40.0);
        c.clip(Some(Rect::new(10.0, 10.0, 30.0, 30.0)));
        c.line(&[(-100.0, 140.0), (140.0, -100.0)], BLACK, 1.0, Dash::Solid);
        c.clip(None);
        let (w, _, px) = pixels(&c, 1.0);
        let inked = |x: usize, y: usize| px[y * w + x][0] < 250;
        // On the line x + y = 40 inside the clip: ink; off it and outside the clip: paper.
        assert!(inked(20, 20) || inked(19, 20) || inked(20, 19));
        for (x, y) in [(12, 12), (28, 28), (5, 35), (35, 5), (25, 12)] {
            assert!(!inked(x, y), "ink at {x},{y}");
        }
        assert_eq!(
            clip_polygon(
                &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
                (5.0, -1.0, 20.0, 20.0)
            ),
            vec![(5.0, 0.0), (10.0, 0.0), (10.0, 10.0), (5.0, 10.0)]
        );
    }

    #[test]
    fn text_is_painted_from_the_font_outlines() {
        let mut c = Canvas::new(60.0, 30.0);
        let r = c.text("T", (10.0, 20.0), 20.0, BLACK, H::Start, V::Base, false);
        let (w, _, px) = pixels(&c, 1.0);
        // The bar of the T, just under the cap height, is inked; below the baseline is not.
        let bar_y = (20.0 - 0.7 * 20.0) as usize;
        let stem_x = ((r.x0 + r.x1) / 2.0) as usize;
        assert!(px[bar_y * w + stem_x][0] < 100);
        assert!(px[(bar_y + 6) * w + stem_x][0] < 100, "stem");
        assert_eq!(px[25 * w + stem_x], [255, 255, 255]);
        assert_eq!(px[(bar_y + 6) * w + stem_x + 5], [255, 255, 255]);
    }
}

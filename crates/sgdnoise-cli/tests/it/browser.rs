//! report.html in a real browser: headless Chromium renders the page of a small analysis to a
//! screenshot and dumps its DOM; the test requires the figures and tables to be there.
//!
//! The browser is the Debian package `chromium` (`scripts/test.sh` installs it where it can and
//! then sets `SGDNOISE_REQUIRE_BROWSER=1`, so that a missing or broken browser fails). Without
//! that variable and without a browser the test says so and passes.

use crate::util::{output as sgdnoise, temp_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser: `$SGDNOISE_CHROMIUM`, else the first of chromium, chromium-browser,
/// google-chrome on the PATH.
fn browser() -> Option<PathBuf> {
    if let Some(b) = std::env::var_os("SGDNOISE_CHROMIUM") {
        return Some(PathBuf::from(b));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// Runs the headless browser with `args` on `page`, killed after two minutes; its stdout.
fn headless(exe: &Path, profile: &Path, args: &[&str], page: &Path) -> Vec<u8> {
    let mut child = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            // Nothing may come from a network: the page has to be self-contained.
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the browser");
    let mut out = Vec::new();
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let start = Instant::now();
    loop {
        if child.try_wait().expect("waiting for the browser").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser did not finish within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().expect("reading the browser's output")
}

/// Pixels of `rgb` (RGBA rows) within `tol` of `c` in every channel.
fn count_near(rgba: &[u8], c: (u8, u8, u8), tol: i32) -> usize {
    rgba.chunks_exact(4)
        .filter(|p| {
            (p[0] as i32 - c.0 as i32).abs() <= tol
                && (p[1] as i32 - c.1 as i32).abs() <= tol
                && (p[2] as i32 - c.2 as i32).abs() <= tol
        })
        .count()
}

#[test]
fn report_html_shows_its_figures_and_tables_in_a_real_browser() {
    let required = std::env::var_os("SGDNOISE_REQUIRE_BROWSER").is_some_and(|v| v == "1");
    let Some(exe) = browser() else {
        assert!(
            !required,
            "SGDNOISE_REQUIRE_BROWSER=1 but no chromium on the PATH (apt-get install chromium)"
        );
        eprintln!(
            "skipped: no headless browser (apt-get install chromium, or set SGDNOISE_CHROMIUM)"
        );
        return;
    };
    // A small perceptron store: 2 chi x 3 P x 2 T x 2 seeds, milliseconds a run (two chi: two
    // curves, blue and orange, in the first figure).
    let dir = temp_dir("browser");
    let sweep = Path::new(dir.str()).join("small.toml");
    std::fs::write(
        &sweep,
        "[fixed]\ndim = 32\npte = 1024\nbatch = 2\nalpha = 32768\n\
         [axes]\nchi = [1.0, 3.0]\nptr = [128, 256, 512]\ntemp = [0.25, 1.0]\nseed_init = [1, 2]\n",
    )
    .unwrap();
    let store = dir.sub("store");
    let o = sgdnoise(&[
        "sweep",
        "run",
        sweep.to_str().unwrap(),
        "--out",
        &store,
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.sub("analysis");
    let o = sgdnoise(&["analyze", &store, "--out", &out, "--resamples", "50"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = Path::new(&out).join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let fits = std::fs::read_to_string(Path::new(&out).join("fits.csv")).unwrap();
    let n_fits = fits.lines().count() - 1;
    let n_svg = html.matches("<svg ").count();
    assert!(n_fits > 0 && n_svg >= 4, "{n_fits} fits, {n_svg} figures");

    // The DOM as the browser built it: every figure an <svg> with its drawing, every fit a row.
    let profile = dir.sub("profile");
    let dom = String::from_utf8_lossy(&headless(&exe, Path::new(&profile), &["--dump-dom"], &page))
        .into_owned();
    assert!(
        dom.contains("</html>"),
        "no DOM from the browser: {dom:.300}"
    );
    assert_eq!(dom.matches("<svg").count(), n_svg, "inline SVGs in the DOM");
    assert!(dom.matches("<polyline").count() + dom.matches("<path").count() >= n_svg);
    assert_eq!(
        dom.matches("<tr class=\"fit\">").count(),
        n_fits,
        "one table row per fit"
    );
    assert!(dom.contains("signal_to_noise") && dom.contains("Provenance"));

    // The screenshot: not blank, and with the colours of the curves (the palette's first two,
    // Tableau blue and orange) and of the table headers.
    let shot = Path::new(dir.str()).join("report.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    headless(
        &exe,
        Path::new(&profile),
        &[&shot_arg, "--window-size=1200,2400"],
        &page,
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("the browser wrote no screenshot"),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 2400));
    let rgba: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => buf[..info.buffer_size()].to_vec(),
        png::ColorType::Rgb => buf[..info.buffer_size()]
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("screenshot colour type {other:?}"),
    };
    let pixels = rgba.len() / 4;
    let white = count_near(&rgba, (255, 255, 255), 3);
    assert!(
        white < pixels * 97 / 100,
        "the screenshot is blank: {white} of {pixels} pixels white"
    );
    let blue = count_near(&rgba, (31, 119, 180), 24);
    let orange = count_near(&rgba, (255, 127, 14), 24);
    let header = count_near(&rgba, (0xe8, 0xee, 0xf6), 2);
    assert!(
        blue > 200 && orange > 200,
        "no curves in the screenshot: {blue} blue, {orange} orange pixels"
    );
    assert!(
        header > 500,
        "no table header in the screenshot: {header} pixels"
    );
    eprintln!(
        "report.html in {}: {n_svg} figures, {n_fits} fit rows; screenshot {blue} blue, {orange} orange, {header} header pixels, {white} of {pixels} white",
        exe.display()
    );
}

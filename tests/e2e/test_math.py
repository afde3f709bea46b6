"""Formulas in a real browser (Voila app, Chromium): KaTeX is fetched from the kernel
the first time a formula shows, its fonts come with it (no font URL is ever
requested), prices stay text. Screenshot: artifacts/test_math_*-math.png."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_voila_app import assistant, message_box, open_app, send, wait_idle

MATH_REPLY = r"""Euler's identity \(e^{i\pi}+1=0\) and a square $x^2$.

$$\int_0^1 x^2\,dx = \frac{1}{3}$$

\[\sqrt{a^2+b^2} \xrightarrow{n\to\infty} \sum_{k=1}^{n} \frac{1}{k^2}\]

It costs $5 and $10."""

FONT_FILE = (".woff2", ".woff", ".ttf", ".otf")


def check_formulas(page) -> None:
    body = assistant(page).last.locator(".lc-md")
    done = body.locator(".lc-math.lc-math-done")
    expect(done).to_have_count(4)
    expect(body.locator(".lc-math-done .katex")).to_have_count(4)
    expect(body.locator(".lc-math-done .katex-display")).to_have_count(2)
    labels = done.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert labels[0] == r"e^{i\pi}+1=0" and labels[1] == "x^2"
    expect(body).to_contain_text("It costs $5 and $10.")
    facts = page.evaluate(
        """async (el) => {
            await document.fonts.ready;
            const glyph = el.querySelector('.katex .mord.mathnormal');
            return {
              family: getComputedStyle(glyph).fontFamily,
              loaded: document.fonts.check('16px lcKaTeX_Main')
                && document.fonts.check('italic 16px lcKaTeX_Math'),
              katexFaces: [...document.fonts]
                .filter(f => f.family.includes('KaTeX') && f.status === 'loaded').length,
              rawTex: el.textContent.includes('\\\\(') || el.textContent.includes('$$'),
            };
        }""",
        body.element_handle(),
    )
    assert "lcKaTeX_Math" in facts["family"], facts
    assert facts["loaded"] and facts["katexFaces"] >= 4, facts
    assert not facts["rawTex"], facts


def test_formulas_render_with_katex_and_prices_stay_text(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = MATH_REPLY
    app = start_livechat()
    page = open_app(new_context, app.url)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    send(page, "Some math, please")
    wait_idle(page)
    check_formulas(page)
    shot(page, "math")

    page.reload(wait_until="domcontentloaded")  # from the stored history, chunk loaded anew
    expect(message_box(page)).to_be_editable()
    check_formulas(page)
    assert [u for u in requests if u.split("?")[0].endswith(FONT_FILE)] == []
    assert page.errors == []

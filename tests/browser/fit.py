"""What every page of the app must be at each width (docs/product.md, "The pages"): nothing
runs past its card on a desktop, no sideways scroll on a phone (a wide table scrolls inside
its own container, by design), every placeholder readable whole, and no serious or critical
accessibility violation by axe-core (bundled with axe-playwright-python: no network)."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

DESKTOP = 1280
# axe-core's impacts that fail a page; "minor" and "moderate" ones are left to judgement.
FAILING_IMPACTS = ("serious", "critical")

# Answers a list of what does not fit, in words; empty when everything does. Elements inside
# a `.scroll` container are measured as that container: it scrolls on a phone by design,
# never on a desktop.
MEASURE = """
(desktop) => {
  const problems = [];
  const name = (node) => {
    let text = node.tagName.toLowerCase();
    if (node.id) text += "#" + node.id;
    if (typeof node.className === "string" && node.className.trim())
      text += "." + node.className.trim().split(/\\s+/).join(".");
    return text;
  };
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth)
    problems.push(`the page scrolls sideways: ${root.scrollWidth} px in ${root.clientWidth} px`);
  for (const card of document.querySelectorAll("header, main")) {
    const box = card.getBoundingClientRect();
    for (const node of card.querySelectorAll("*")) {
      const scroller = node.parentElement && node.parentElement.closest(".scroll");
      if (scroller && card.contains(scroller)) continue;
      const rect = node.getBoundingClientRect();
      if (!rect.width || getComputedStyle(node).position === "absolute") continue;
      if (rect.right > box.right + 1 || rect.left < box.left - 1)
        problems.push(`${name(node)} runs past its ${name(card)}: ` +
          `${Math.round(rect.left)}-${Math.round(rect.right)} px in ` +
          `${Math.round(box.left)}-${Math.round(box.right)} px`);
    }
    if (card.scrollWidth > card.clientWidth + 1)
      problems.push(`${name(card)} overflows: ${card.scrollWidth} px in ${card.clientWidth} px`);
  }
  const boxes = "main table, main pre, main fieldset, main .scroll";
  for (const node of document.querySelectorAll(boxes)) {
    const scrolls = node.classList.contains("scroll") && window.innerWidth < desktop;
    if (!scrolls && node.scrollWidth > node.clientWidth + 1)
      problems.push(`${name(node)} overflows: ${node.scrollWidth} px in ${node.clientWidth} px`);
  }
  const ruler = document.createElement("canvas").getContext("2d");
  for (const input of document.querySelectorAll("input[placeholder]")) {
    const style = getComputedStyle(input);
    ruler.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const needed = ruler.measureText(input.placeholder).width;
    if (needed > room)
      problems.push(`${name(input)}'s placeholder is cut: ` +
        `${Math.ceil(needed)} px in ${Math.floor(room)} px`);
  }
  return problems;
}
"""

_axe = Axe()


def fit_problems(page: Page) -> list[str]:
    """What does not fit the page at its current width, in words."""
    return page.evaluate(MEASURE, DESKTOP)


def accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations of the page, one line each with where."""
    violations = _axe.run(page).response["violations"]
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in violations
        if violation["impact"] in FAILING_IMPACTS
    ]

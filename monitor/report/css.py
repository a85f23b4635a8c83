"""The report's colours and its one inline stylesheet: screen (desktop and phone) and A4 print.

- **Phone** (up to :data:`PHONE_MAX_PX` wide): the page never scrolls sideways; a wide table
  scrolls inside its own box (``.table-scroll``), and the charts show their narrow drawing
  (:data:`monitor.report.svg.NARROW`), whose text is at least 11 px on a 390-px screen.
- **Print** (A4): the wide drawings, every table in full (no scroll box), sections starting
  on a new page, folded ``<details>`` printed open, colours printed as on screen.
"""

from __future__ import annotations

from monitor.report.svg import NARROW, WIDE

KIND_COLOURS = {"tonic": "#b23a48", "clonus": "#e08e0b", "myoclonic": "#3b7dd8", "mixed": "#7a5195"}
BOTOX_COLOUR, PT_COLOUR = "#d62728", "#1f77b4"  # red and blue, as the dashboards' annotations
DAY_COLOUR, NIGHT_COLOUR, SPASM_COLOUR = "#f2b134", "#2f3e75", "#5c7fa3"
BEFORE_COLOUR, AFTER_COLOUR = "#8a94a6", "#2a9d8f"  # the patient summary's two bars
JOINT_COLOURS = ("#2a9d8f", "#e76f51", "#264653", "#8ab17d")
# At or below this viewport width the narrow charts are shown: the wide drawing (760 units)
# would be drawn below 700 px and its 13-unit text below 12 px.
PHONE_MAX_PX = 760

STYLE = f"""
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:960px;
padding:16px 24px;color:#1d2330;background:#fff;line-height:1.4;overflow-wrap:break-word}}
h1{{font-size:1.6em;margin:.2em 0}}h2{{font-size:1.25em;margin-top:1.6em;border-bottom:2px solid #dde3ec}}
h2.part{{font-size:1.45em;margin-top:2.2em;border-bottom:4px solid #1d2330}}
.meta{{color:#4a5568}}.banner{{background:#fff3cd;border:2px solid #b58105;color:#5c4100;padding:10px 14px;
font-weight:600;margin:12px 0}}
#patient{{background:#f4f8fb;border:1px solid #d5e3ee;border-radius:8px;padding:4px 18px 12px;
font-size:1.08em}}#patient h2{{border:0}}#patient .headline{{font-size:1.15em;font-weight:600}}
.pbars{{margin:10px 0 6px;max-width:560px}}.pbar{{margin:6px 0}}.pbar-label{{display:block}}
.pbar-row{{display:flex;align-items:center;gap:8px}}.pbar-row svg{{flex:1 1 auto;height:22px;min-width:0}}
.pbar-value{{white-space:nowrap;font-weight:600;min-width:7.5em}}
.table-scroll{{overflow-x:auto;max-width:100%;margin:8px 0}}
table{{border-collapse:collapse;font-size:.92em}}th,td{{border:1px solid #d5dbe5;padding:3px 8px;
text-align:left;vertical-align:top}}th{{background:#f1f4f9}}
td:first-child{{white-space:nowrap}}td.num{{text-align:right;font-variant-numeric:tabular-nums}}
table.summary td{{white-space:normal}}table.summary td:first-child{{font-weight:600;min-width:9em}}
.note{{color:#4a5568;font-size:.88em}}.nodata{{color:#8a94a6;font-style:italic}}
summary{{cursor:pointer;font-weight:600;margin:8px 0}}
figure.chart{{margin:10px 0 16px}}figure.chart figcaption{{font-weight:600;margin-bottom:2px}}
svg.chart{{width:100%;height:auto;display:block}}svg.chart-wide{{max-width:{WIDE.width}px}}
svg.chart-narrow{{display:none;max-width:480px}}
svg.chart-wide text{{font-size:{WIDE.font_px}px;fill:#2d3748}}
svg.chart-narrow text{{font-size:{NARROW.font_px}px;fill:#2d3748}}
svg.chart .axis{{stroke:#4a5568}}svg.chart .grid{{stroke:#e2e8f0}}
ul.legend{{display:flex;flex-wrap:wrap;gap:2px 16px;list-style:none;padding:0;margin:4px 0;font-size:.88em}}
ul.legend li{{display:flex;align-items:center;gap:5px}}
@media (max-width:{PHONE_MAX_PX}px){{
body{{padding:10px 16px}}h1{{font-size:1.35em}}
td{{white-space:nowrap}}td.long{{white-space:normal;min-width:14em}}
svg.chart-wide{{display:none}}svg.chart-narrow{{display:block}}
}}
@page{{size:A4;margin:14mm 12mm}}
@media print{{
*{{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
body{{max-width:none;padding:0;font-size:10pt}}
svg.chart-wide{{display:block!important}}svg.chart-narrow{{display:none!important}}
.table-scroll{{overflow:visible}}table{{font-size:8.5pt}}th,td{{white-space:normal;padding:2px 4px}}
td.long{{min-width:0;overflow-wrap:anywhere}}
h2,h3,figcaption{{break-after:avoid-page}}figure.chart,tr,.pbars{{break-inside:avoid-page}}
h2.part,.clinician>section+section{{break-before:page}}
details::details-content{{content-visibility:visible;display:block}}
details>summary{{list-style:none}}details>summary::-webkit-details-marker{{display:none}}
}}
"""

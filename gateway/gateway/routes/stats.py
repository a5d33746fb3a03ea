"""Public analytics (contract §9): figures per region, as JSON and as a page to look at."""
import html

import eventlet
from werkzeug.wrappers import Response

from demeu_common.reference import REGIONS

from gateway.http import route

CAMPAIGN_FIGURES = ("campaigns_live", "raised_amount", "donations_count")
TALENT_FIGURES = ("talents", "applications", "enrolled")
LABELS = {
    "kk": {"title": "Demeu: өңірлер бойынша", "raised_amount": "Жиналған қаражат", "campaigns_live":
           "Белсенді науқандар", "donations_count": "Жарналар", "talents": "Таланттар",
           "applications": "Өтінімдер", "enrolled": "Оқуға қабылданғандар", "region": "Өңір",
           "note": "Деректер нақты уақытта жаңартылады."},
    "ru": {"title": "Demeu: по регионам", "raised_amount": "Собрано", "campaigns_live":
           "Активные кампании", "donations_count": "Пожертвования", "talents": "Таланты",
           "applications": "Заявки", "enrolled": "Зачислены", "region": "Регион",
           "note": "Данные обновляются в реальном времени."},
    "en": {"title": "Demeu by region", "raised_amount": "Raised", "campaigns_live": "Live campaigns",
           "donations_count": "Donations", "talents": "Talents", "applications": "Applications",
           "enrolled": "Enrolled", "region": "Region", "note": "Figures are live."},
}


def tenge(tiyn):
    whole = f"{tiyn // 100:,}".replace(",", "\u00a0")
    return f"{whole}\u00a0₸"


class StatsRoutes:
    @route("GET", "/v1/stats/regions", tag="analytics", summary="Figures per region (public)")
    def region_stats(self, request):
        return {"items": self._region_rows(), "next_cursor": None}

    @route("GET", "/dashboard", tag="analytics", summary="The regional figures as bar charts (a page)")
    def dashboard(self, request):
        lang = request.args.get("lang") if request.args.get("lang") in LABELS else "kk"
        labels, rows = LABELS[lang], self._region_rows()
        charts = "".join(_bar_chart(labels[figure], rows, figure, lang) for figure in
                         ("raised_amount", "campaigns_live", "donations_count", "talents", "enrolled"))
        head = "".join(f"<th>{html.escape(labels[f])}</th>" for f in CAMPAIGN_FIGURES + TALENT_FIGURES)
        body = "".join(
            f"<tr><td>{html.escape(REGIONS[r['region']][lang])}</td>"
            + "".join(f"<td>{tenge(r[f]) if f == 'raised_amount' else r[f]}</td>"
                      for f in CAMPAIGN_FIGURES + TALENT_FIGURES)
            + "</tr>" for r in rows)
        switch = " · ".join(f'<a href="?lang={code}">{code}</a>' for code in LABELS)
        page = f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{html.escape(labels['title'])}</title>
<style>body{{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:70rem;padding:0 1rem;color:#1d2a36}}
h1{{color:#00677f}} section{{margin:1.5rem 0}} table{{border-collapse:collapse;width:100%}}
td,th{{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:right}} td:first-child,th:first-child{{text-align:left}}
svg text{{font:12px system-ui,sans-serif}}</style></head><body>
<h1>{html.escape(labels['title'])}</h1><p>{switch} — {html.escape(labels['note'])}</p>
{charts}<section><table><thead><tr><th>{html.escape(labels['region'])}</th>{head}</tr></thead>
<tbody>{body}</tbody></table></section></body></html>"""
        return Response(page, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                                 "Cache-Control": "public, max-age=30"})

    def _region_rows(self):
        """Both services asked at once; a figure that cannot be had shows as 0 rather than
        failing a public page (each service's answer is all-or-nothing)."""
        pool = eventlet.GreenPool(2)
        campaigns_call = pool.spawn(_ask, self.campaigns.region_stats)
        talent_call = pool.spawn(_ask, self.talent.region_stats)
        by_campaigns, by_talent = campaigns_call.wait(), talent_call.wait()
        rows = []
        for code in REGIONS:
            row = {"region": code}
            row.update({f: int((by_campaigns.get(code) or {}).get(f, 0)) for f in CAMPAIGN_FIGURES})
            row.update({f: int((by_talent.get(code) or {}).get(f, 0)) for f in TALENT_FIGURES})
            rows.append(row)
        return rows


def _ask(call):
    try:
        return call() or {}
    except Exception:  # a public page shows zeros rather than failing with a service
        return {}


def _bar_chart(title, rows, figure, lang):
    ranked = sorted(rows, key=lambda r: (-r[figure], r["region"]))
    top = max((r[figure] for r in ranked), default=0) or 1
    bar_height, label_width, width = 18, 190, 720
    bars = []
    for index, row in enumerate(ranked):
        y = index * (bar_height + 4)
        length = int((width - label_width - 110) * row[figure] / top)
        value = tenge(row[figure]) if figure == "raised_amount" else str(row[figure])
        name = html.escape(REGIONS[row["region"]][lang])
        bars.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{name}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(length, 1)}" height="{bar_height}" fill="#00a0c6"/>'
            f'<text x="{label_width + length + 6}" y="{y + 13}">{value}</text>')
    height = len(ranked) * (bar_height + 4)
    return (f'<section><h2>{html.escape(title)}</h2><svg role="img" aria-label="{html.escape(title)}" '
            f'viewBox="0 0 {width} {height}" width="100%">{"".join(bars)}</svg></section>')

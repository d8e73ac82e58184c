"""Static CSS and JavaScript inlined into the offline report (see ``segmentation.report``).

They are Python strings rather than files so that any install of the package (editable or a
wheel) carries them without package-data configuration.
"""

from __future__ import annotations

CSS = """
:root {
  --bg: #f4f5f7; --card: #ffffff; --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb;
  --accent: #4c78a8; --good: #2f9e44; --warn: #e8a317; --bad: #d9480f;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.top {
  background: #243b53; color: #fff; padding: 18px 28px 10px; position: sticky; top: 0;
  z-index: 10; box-shadow: 0 2px 6px rgba(0, 0, 0, .15);
}
header.top h1 { margin: 0 0 2px; font-size: 22px; font-weight: 600; }
header.top .meta { margin: 0 0 8px; color: #bcccdc; font-size: 12px; }
header.top nav { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12.5px; }
header.top nav a { color: #d9e2ec; text-decoration: none; }
header.top nav a:hover { color: #fff; text-decoration: underline; }
header.top nav a.na { color: #829ab1; text-decoration: line-through; }
main {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(620px, 1fr)); gap: 18px;
  padding: 18px 28px 40px; max-width: 1500px; margin: 0 auto;
}
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 18px 16px; min-width: 0; scroll-margin-top: 110px;
}
.card.wide { grid-column: 1 / -1; }
.card h2 { margin: 0 0 6px; font-size: 16px; font-weight: 600; }
.card .intro, .card .note { color: var(--muted); margin: 0 0 10px; font-size: 12.5px; }
.not-available {
  color: var(--muted); background: #f0f4f8; border: 1px dashed #bcccdc; border-radius: 6px;
  padding: 10px 12px; margin: 6px 0 0; font-style: italic;
}
.charts { display: flex; flex-wrap: wrap; gap: 18px 28px; align-items: flex-start; }
.chart { min-height: 40px; max-width: 100%; overflow-x: auto; }
.chart-failed { color: var(--bad); }
.vega-embed { font-family: inherit; }
.vega-bind { margin-top: 6px; font-size: 12.5px; }
.vega-bind select, .picker select {
  font: inherit; padding: 3px 6px; border: 1px solid #bcccdc; border-radius: 4px;
  background: #fff;
}
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.kpi { border: 1px solid var(--line); border-left: 5px solid #bcccdc; border-radius: 6px;
  padding: 8px 10px; }
.kpi.good { border-left-color: var(--good); }
.kpi.warn { border-left-color: var(--warn); }
.kpi.bad { border-left-color: var(--bad); }
.verdict { border: 1px solid var(--line); border-left: 6px solid #bcccdc; border-radius: 6px;
  padding: 10px 12px; margin: 0 0 12px; font-size: 15px; }
.verdict.good { border-left-color: var(--good); }
.verdict.warn { border-left-color: var(--warn); }
.verdict.bad { border-left-color: var(--bad); }
.verdict small { color: var(--muted); }
.kpi-title { color: var(--muted); font-size: 11.5px; text-transform: uppercase;
  letter-spacing: .03em; }
.kpi-value { font-size: 22px; font-weight: 600; margin: 2px 0; }
.kpi-hint { color: var(--muted); font-size: 11.5px; min-height: 1em; }
.table-scroll { overflow-x: auto; }
table.data { border-collapse: collapse; font-size: 12.5px; width: 100%; }
table.data th, table.data td { padding: 5px 8px; border-bottom: 1px solid var(--line);
  text-align: right; white-space: nowrap; }
table.data th { background: #f0f4f8; font-weight: 600; color: #334e68; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data.compact { width: auto; }
table.data.playbook td { white-space: normal; text-align: left; vertical-align: top; }
table.data.playbook th { text-align: left; }
table.data.metrics { table-layout: fixed; }
table.data.metrics th { white-space: normal; vertical-align: bottom; }
table.data.metrics td { white-space: normal; overflow-wrap: anywhere; }
table.data.metrics th:first-child { width: 11em; }
table.data tbody tr:hover { background: #f7f9fb; }
details { margin-top: 10px; }
details summary { cursor: pointer; color: var(--accent); font-size: 12.5px; }
.picker { font-weight: 600; display: inline-block; margin-bottom: 10px; }
.drill { display: grid; grid-template-columns: minmax(280px, 1fr) 2fr; gap: 20px; }
.drill h3 { margin: 0 0 4px; font-size: 15px; }
.drill .characteristics { background: #f0f4f8; border-radius: 6px; padding: 8px 10px;
  margin: 6px 0 10px; }
.drill .desc { color: var(--muted); margin: 0 0 6px; }
.drill table.profile td:last-child { font-weight: 600; }
.hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 11.5px; }
@media (max-width: 760px) {
  main { grid-template-columns: 1fr; padding: 10px; }
  .drill { grid-template-columns: 1fr; }
}
"""

RESOURCE_CHECK_JS = """
(function () {
  'use strict';
  // Records every network resource the page loads and every error, so a headless browser
  // test can read the result from the DOM (div#resource-check).
  var state = {
    resourceErrors: 0, scriptErrors: 0, cspViolations: 0, chartsRendered: 0,
    chartsFailed: 0, done: false, messages: []
  };
  window.__reportCheck = state;
  function note(message) {
    if (state.messages.length < 50) { state.messages.push(String(message)); }
    update();
  }
  function update() {
    var el = document.getElementById('resource-check');
    if (!el) { return; }
    var entries = (window.performance && performance.getEntriesByType)
      ? performance.getEntriesByType('resource') : [];
    var external = entries.filter(function (e) { return !/^(data|blob):/.test(e.name); });
    external.forEach(function (e) {
      var text = 'resource loaded: ' + e.name;
      if (state.messages.indexOf(text) < 0 && state.messages.length < 50) {
        state.messages.push(text);
      }
    });
    el.setAttribute('data-external', String(external.length));
    el.setAttribute('data-resource-errors', String(state.resourceErrors));
    el.setAttribute('data-script-errors', String(state.scriptErrors));
    el.setAttribute('data-csp-violations', String(state.cspViolations));
    el.setAttribute('data-errors', String(
      state.resourceErrors + state.scriptErrors + state.cspViolations + state.chartsFailed));
    el.setAttribute('data-charts-rendered', String(state.chartsRendered));
    el.setAttribute('data-charts-failed', String(state.chartsFailed));
    el.setAttribute('data-status', state.done ? 'done' : 'pending');
    el.textContent = state.messages.join('\\n');
  }
  window.addEventListener('error', function (event) {
    var target = event.target;
    if (target && target !== window && (target.src || target.href)) {
      state.resourceErrors += 1;
      note('resource failed: ' + (target.src || target.href));
    } else {
      state.scriptErrors += 1;
      note('script error: ' + event.message);
    }
  }, true);
  window.addEventListener('unhandledrejection', function (event) {
    state.scriptErrors += 1;
    note('unhandled rejection: ' + event.reason);
  });
  document.addEventListener('securitypolicyviolation', function (event) {
    state.cspViolations += 1;
    note('blocked by CSP: ' + event.blockedURI + ' (' + event.violatedDirective + ')');
  });
  if (window.PerformanceObserver) {
    try {
      new PerformanceObserver(function () { update(); }).observe({ entryTypes: ['resource'] });
    } catch (e) { /* older browsers: the final update() still counts */ }
  }
  function measureOverflow() {
    // Content wider than its box at this window width: a table or chart that scrolls
    // sideways, or sticks out of its section (a legend cut off behind a scrollbar).
    var found = [];
    var boxes = document.querySelectorAll(
      'section table.data, section .table-scroll, section .chart, section .chart svg, ' +
      'section .chart canvas');
    Array.prototype.forEach.call(boxes, function (box) {
      var section = box.closest('section');
      var where = (section ? section.id : '?') + ' ' + box.tagName.toLowerCase() +
        (box.id ? '#' + box.id : '');
      if (box.scrollWidth > box.clientWidth + 1 && box.clientWidth > 0) {
        found.push(where + ' scrolls (' + box.scrollWidth + ' > ' + box.clientWidth + ' px)');
      }
      if (section) {
        var right = box.getBoundingClientRect().right;
        var limit = section.getBoundingClientRect().right;
        if (right > limit + 1) {
          found.push(where + ' sticks out of its section by ' + Math.round(right - limit) + ' px');
        }
      }
    });
    return found;
  }
  window.__reportFinish = function (rendered, failed) {
    state.chartsRendered = rendered;
    state.chartsFailed = failed;
    state.done = true;
    var overflow = measureOverflow();
    overflow.forEach(function (text) {
      note('overflow at ' + window.innerWidth + ' px: ' + text);
    });
    var el = document.getElementById('resource-check');
    if (el) {
      el.setAttribute('data-overflow', String(overflow.length));
      el.setAttribute('data-width', String(window.innerWidth));
    }
    update();
  };
  document.addEventListener('DOMContentLoaded', update);
})();
"""

APP_JS = """
(function () {
  'use strict';
  var specs = JSON.parse(document.getElementById('chart-specs').textContent);
  var drill = JSON.parse(document.getElementById('drilldown-data').textContent) || {};
  var segments = drill.segments || [];
  var select = document.getElementById('segment-select');

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function table(headers, rows, cls, hashColumn) {
    var t = el('table', { 'class': 'data ' + (cls || '') });
    if (headers && headers.length) {
      var tr = el('tr');
      headers.forEach(function (h) { tr.appendChild(el('th', {}, h)); });
      t.appendChild(el('thead')).appendChild(tr);
    }
    var body = t.appendChild(el('tbody'));
    rows.forEach(function (row) {
      var tr = el('tr');
      row.forEach(function (v, i) {
        tr.appendChild(el('td', i === hashColumn ? { 'class': 'hash' } : {}, v));
      });
      body.appendChild(tr);
    });
    return t;
  }

  function showSegment(id) {
    var seg = segments.filter(function (s) { return String(s.id) === String(id); })[0];
    var profile = document.getElementById('segment-profile');
    var customers = document.getElementById('segment-top-customers');
    if (!seg || !profile || !customers) { return; }
    if (select && select.value !== String(seg.id)) { select.value = String(seg.id); }
    profile.replaceChildren();
    customers.replaceChildren();
    profile.appendChild(el('h3', {}, seg.label));
    if (seg.description) { profile.appendChild(el('p', { 'class': 'desc' }, seg.description)); }
    profile.appendChild(el('div', { 'class': 'characteristics', 'id': 'segment-characteristics' },
      seg.characteristics || 'No characteristics text for this segment.'));
    if (seg.top_attributes) {
      profile.appendChild(el('p', { 'class': 'desc', 'id': 'segment-top-attributes' },
        'Stands out on: ' + seg.top_attributes));
    }
    if (seg.recommended_action) {
      profile.appendChild(el('p', { 'class': 'desc', 'id': 'segment-action' },
        'What to do: ' + seg.recommended_action + (seg.kpi ? ' (KPI: ' + seg.kpi + ')' : '')));
    }
    if (seg.profile && seg.profile.length) {
      profile.appendChild(table([], seg.profile, 'profile compact'));
    } else {
      profile.appendChild(el('p', { 'class': 'not-available' },
        'Profile not available' + (seg.profile_unavailable ? ': ' + seg.profile_unavailable : '')));
    }
    customers.appendChild(el('h3', {}, 'Top customers by monetary value'));
    var c = seg.customers || {};
    if (c.rows && c.rows.length) {
      customers.appendChild(table(c.headers, c.rows, 'top-customers', 0));
    } else {
      customers.appendChild(el('p', { 'class': 'not-available' },
        'Top customers not available' + (c.unavailable ? ': ' + c.unavailable : '')));
    }
  }

  if (select) {
    select.addEventListener('change', function () { showSegment(select.value); });
    // report.html?segment=<id> opens the drill-down on that segment.
    var wanted = null;
    try { wanted = new URLSearchParams(window.location.search).get('segment'); } catch (e) { }
    var known = segments.some(function (s) { return String(s.id) === String(wanted); });
    if (segments.length) { showSegment(known ? wanted : segments[0].id); }
  }

  var rendered = 0;
  var failed = 0;
  var jobs = Object.keys(specs).map(function (id) {
    var opts = { actions: false, renderer: 'svg', tooltip: { theme: 'light' } };
    return vegaEmbed('#' + id, specs[id], opts).then(function (result) {
      rendered += 1;
      if (id.indexOf('segment-sizes-') === 0 && select) {
        result.view.addEventListener('click', function (event, item) {
          if (item && item.datum && item.datum.segment_id !== undefined) {
            showSegment(item.datum.segment_id);
            document.getElementById('segment-drilldown').scrollIntoView();
          }
        });
      }
    }).catch(function (error) {
      failed += 1;
      var node = document.getElementById(id);
      node.classList.add('chart-failed');
      node.textContent = 'Chart could not be drawn: ' + error;
    });
  });
  Promise.all(jobs).then(function () { window.__reportFinish(rendered, failed); });
})();
"""

/* greenpark pollution-source pages: monitoring overview, outlet, alarms, enterprise file, tracing. */
(function () {
  'use strict';
  const GP = window.GP;
  // Words come from the catalogue: _ translates an English message id, N_ only marks one (translated
  // where it is shown). Ids are written outside template literals: the extractor skips backticks.
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const COLORS = { red: '#c0392b', orange: '#e67e22', green: '#2f855a', never: '#95a5a6' };
  const STATUS = { red: N_('exceedance / offline'), orange: N_('early warning'), green: N_('normal'), never: N_('never reported') };
  const RULES = {
    exceedance: N_('exceedance'), pre_alarm: N_('pre-alarm'), missing_data: N_('missing data'),
    offline: N_('device offline'), abnormal_flag: N_('abnormal flags lasting'), flat_line: N_('flat line (suspected tampering)'),
    concentration_collapse: N_('concentration collapse at steady flow (suspected tampering)'), held_below_limit: N_('held just under the limit (suspected tampering)'),
    long_maintenance: N_('long maintenance (suspected tampering)'), wrong_password: N_('wrong access password (suspected impersonation)'),
  };
  const SEVERITY = { info: N_('notice'), warning: N_('warning'), critical: N_('critical') };
  const ALARM_STATUS = { open: N_('open'), acknowledged: N_('acknowledged'), closed: N_('closed') };
  const DEVICE_STATUS = { pending: N_('awaiting adoption'), adopted: N_('adopted'), ignored: N_('ignored') };
  const word = (table, k) => (table[k] ? _(table[k]) : k);
  // a discharge permit's management class (the file holds it as the permit writes it, in Chinese)
  const MANAGEMENT = { 重点管理: N_('key management'), 简化管理: N_('simplified management'), 登记管理: N_('registration management') };
  const management = (v) => (MANAGEMENT[v] ? _(MANAGEMENT[v]) : GP.name(v));
  // GB 3838 water quality classes: I–V as they are, 劣V in words
  const WATER_CLASS = { 劣V: N_('worse than V') };
  const waterClass = (c) => word(WATER_CLASS, c);
  const rule = (r) => word(RULES, r);
  const COMMAND_STATUS = { pending: N_('queued'), sent: N_('sent'), accepted: N_('accepted by the device'), done: N_('done'), failed: N_('failed') };
  const local = (iso) => (iso ? new Date(iso).toLocaleString(GP.zh() ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false }) : '–');
  async function send(url, method, body) {
    const r = await GP.fetch(url, { method, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const detail = typeof data.detail === 'string' ? data.detail : Array.isArray(data.detail) ? data.detail.map((e) => e.msg).join('; ') : '';
      throw new Error(detail || (data.errors ? data.errors.map((e) => `${e.column_label || e.column}: ${e.reason}`).join('; ') : String(r.status)));
    }
    return data;
  }
  async function guarded(fn) {
    try { await fn(); } catch (e) {
      const box = document.getElementById('page-error');
      if (box) { box.hidden = false; box.textContent = /401/.test(e.message) ? _('Please log in') : /403/.test(e.message) ? _('Not allowed') : e.message; }
      document.body.dataset.ready = '1';
    }
  }
  // A translated message whose {fields} are markup (a name marked as data by GP.name): the words
  // are escaped, the fields go in as they are. fill(_('Receiving water: {water}'), { water: GP.name(w) })
  const fill = (text, params) => GP.join(text.split(/(\{\w+\})/).filter((x) => x !== '').map((x) => {
    const k = x.slice(1, -1);
    return /^\{\w+\}$/.test(x) && k in params ? params[k] : x;
  }));
  // a unit as the reader writes it (GP.unit), with the cubes the data files write as m3 raised
  const unit = (u) => GP.unit(u || '').replace(/m3\b/g, 'm³');
  // a channel's pollutant by its HJ 212 name in the page's language; a maker's own code has only
  // the name its row of the enterprise file gives, which is data
  const factor = (c) => (c.label ? c.label : GP.name(c.name || c.code));
  // …saying whether its values are converted to the reference oxygen content
  const channelName = (c) => (c.converted ? fill(_('{name} (converted)'), { name: factor(c) }) : factor(c));

  GP.monitoringPage = () => guarded(async () => {
    const d = await GP.api('/api/sources/overview');
    for (const k of ['red', 'orange', 'green', 'never']) document.getElementById('mon-' + k).textContent = d.counts[k];
    const pts = d.points;
    GP.chart('chart-map', {
      tooltip: { formatter: (p) => GP.markup(html`${p.data.p.enterprise}<br>${p.data.p.outlet} · ${word(STATUS, p.data.p.status)}`) },
      // a margin around the outlets (one outlet alone would otherwise stretch the axes from 0)
      xAxis: { type: 'value', scale: true, name: _('longitude'), min: (v) => +(v.min - 0.02).toFixed(2), max: (v) => +(v.max + 0.02).toFixed(2), axisLabel: { formatter: (v) => v.toFixed(2) } },
      yAxis: { type: 'value', scale: true, name: _('latitude'), min: (v) => +(v.min - 0.02).toFixed(2), max: (v) => +(v.max + 0.02).toFixed(2), axisLabel: { formatter: (v) => v.toFixed(2) } },
      grid: { left: 60, right: 30, top: 30, bottom: 40 },
      series: [{ type: 'scatter', symbolSize: (v, p) => (p.data.p.medium === 'gas' ? 22 : 16), symbol: 'circle',
        data: pts.filter((p) => p.longitude).map((p) => ({ value: [p.longitude, p.latitude], p, itemStyle: { color: COLORS[p.status] } })),
        label: { show: true, position: 'right', formatter: (p) => p.data.p.enterprise.replace(/有限公司|（.*?）/g, '').slice(0, 8), fontSize: 11 } }],
    }).on('click', (p) => { window.location = '/monitoring/outlet/' + p.data.p.outlet_id; });
    const w = { online: _('online'), offline: _('offline'), hourly: _('hourly mean'), limit: _('limit'), flag: _('flag') };
    const card = (p) => {
      const chans = p.channels.filter((c) => c.limit || c.value !== null).map((c) => {
        const cls = c.ratio === null ? '' : c.ratio > 1 ? 'bad' : c.ratio >= 0.8 ? 'warn' : 'good';
        return html`<tr><td>${channelName(c)}</td><td class="num ${cls}">${GP.fmt(c.value, 2)}</td><td class="num">${c.limit ?? ''}</td><td>${unit(c.unit)}</td><td>${c.flags}</td></tr>`;
      });
      const alarms = GP.list([...new Set(p.open_alarms)].map((r) => rule(r) + ' ×' + p.open_alarms.filter((x) => x === r).length));
      // the open alarms may be about earlier hours: say so when the values shown now are within their limits
      const nowWithin = p.channels.every((c) => c.ratio === null || c.ratio <= 1);
      const alarmLine = p.open_alarms.length
        ? _('Open alarms: {list}', { list: alarms }) + (nowWithin && p.open_alarms.includes('exceedance') ? ' ' + _('(about earlier hours; the latest values are within their limits)') : '')
        : '';
      return html`<a class="point ${p.status}" data-status="${p.status}" href="/monitoring/outlet/${p.outlet_id}">
        <div class="head"><span class="dot" style="background:${COLORS[p.status]}"></span><b translate="no">${p.enterprise}</b></div>
        <div class="sub"><span translate="no">${p.outlet}</span> · MN <span translate="no">${p.mn}</span> · HJ 212-${p.edition} · ${p.online ? w.online : w.offline} · ${local(p.last_seen_utc)}</div>
        <table class="data mini"><thead><tr><th></th><th class="num">${w.hourly}</th><th class="num">${w.limit}</th><th></th><th>${w.flag}</th></tr></thead><tbody>${chans}</tbody></table>
        ${alarmLine ? html`<div class="alarms">${alarmLine}</div>` : ''}</a>`;
    };
    const grid = document.getElementById('mon-grid');
    GP.setHTML(grid, pts.map(card));
    // the outlets grow with the park: the officer finds one by enterprise, outlet or MN, or by status
    const search = document.getElementById('mon-search'), statusSel = document.getElementById('mon-status');
    const filter = () => {
      const q = search.value.trim().toLowerCase(), s = statusSel.value;
      let n = 0;
      grid.querySelectorAll('a.point').forEach((a) => {
        const show = (!s || a.dataset.status === s) && (!q || a.textContent.toLowerCase().includes(q));
        a.hidden = !show; if (show) n += 1;
      });
      document.getElementById('mon-shown').textContent = q || s ? _('{n} of {total} outlets', { n, total: pts.length }) : _('{n} outlets', { n: pts.length });
      document.getElementById('mon-none').hidden = n > 0 || !pts.length;
    };
    search.oninput = statusSel.onchange = filter;
    filter();
    const unk = document.getElementById('mon-unknown');
    if (d.unknown_pending !== null) {
      const rows = await GP.api('/api/sources/unknown');
      const ents = await GP.api('/api/sources/enterprises');
      let outlets = [];
      for (const e of ents.filter((x) => x.outlets)) {
        const f = await GP.api('/api/sources/enterprises/' + e.id);
        outlets = outlets.concat(f.outlets.map((o) => ({ id: o.id, label: `${e.name} · ${o.name}`, loggers: o.points.map((pt) => pt.mn) })));
      }
      // the outlets without a logger first, those that already have one (its MN said) apart; none is
      // chosen for the officer. An option is a name (data): its group says what it is.
      outlets.sort((a, b) => a.label.localeCompare(b.label, 'zh-CN'));
      const choose = _('— choose the outlet —');
      const groups = { free: _('Outlets without a logger'), taken: _('Outlets that already have a logger') };
      const opt = (o) => html`<option value="${o.id}" data-label="${o.label}" translate="no">${o.label}${o.loggers.length ? ` · MN ${o.loggers.join(', ')}` : ''}</option>`;
      const free = outlets.filter((o) => !o.loggers.length), taken = outlets.filter((o) => o.loggers.length);
      const opts = [html`<option value="" selected disabled>${choose}</option>`,
        free.length ? html`<optgroup label="${groups.free}">${free.map(opt)}</optgroup>` : '',
        taken.length ? html`<optgroup label="${groups.taken}">${taken.map(opt)}</optgroup>` : ''];
      const u = {
        reason: _('Reason'), status: _('Status'), frames: _('frames'), lastSeen: _('last seen'), wrongPw: _('wrong PW'), notRegistered: _('MN not registered'),
        adopt: _('Adopt'), none: _('No unknown devices'), outlet: _('Outlet for this device'), title: _('Unknown devices'),
      };
      GP.setHTML(unk, rows.length
        ? html`<table class="data" id="unknown-table" data-table="sort page export" data-export-name="${u.title}"><thead><tr><th>MN</th><th>${u.reason}</th><th>${u.status}</th><th class="num">${u.frames}</th><th>${u.lastSeen}</th><th></th></tr></thead><tbody>${rows.map((x) => html`<tr><td translate="no">${x.mn}</td><td>${x.reason === 'bad_pw' ? u.wrongPw : u.notRegistered}</td><td>${word(DEVICE_STATUS, x.status)}</td><td class="num">${x.frames}</td><td data-sort="${x.last_seen_utc}">${local(x.last_seen_utc)}</td><td>${x.status === 'pending' ? html`<form class="inline-form adopt" data-mn="${x.mn}"><label>${u.outlet} <select name="outlet" required>${opts}</select></label> <button>${u.adopt}</button><span class="result" role="status"></span></form>` : ''}</td></tr>`)}</tbody></table>`
        : html`<p class="note">${u.none}</p>`);
      if (rows.length) GP.table(document.getElementById('unknown-table'));
      unk.querySelectorAll('form.adopt').forEach((f) => (f.onsubmit = async (ev) => {
        ev.preventDefault();
        const out = f.querySelector('.result');
        const sel = f.elements.outlet;
        const button = f.querySelector('button');
        // adopting stores what the device sent under that outlet: it asks once more
        if (button.dataset.armed !== '1') {
          button.dataset.armed = '1';
          GP.setHTML(button, fill(_('Adopt {mn} for {outlet}? Click again'), { mn: GP.name(f.dataset.mn), outlet: GP.name(sel.selectedOptions[0].dataset.label) }));
          return;
        }
        try {
          const r = await send(`/api/sources/unknown/${encodeURIComponent(f.dataset.mn)}/adopt`, 'POST', { outlet_id: Number(sel.value) });
          f.replaceWith(document.createTextNode(_('adopted, {n} frames stored', { n: r.frames_stored })));
        } catch (e) { out.className = 'result bad'; out.textContent = e.message; button.dataset.armed = ''; button.textContent = u.adopt; }
      }));
    } else unk.closest('.card').hidden = true;
    await GP.ready();
  });

  GP.outletPage = (id) => guarded(async () => {
    const hoursSel = document.getElementById('out-hours');
    const d = await GP.api(`/api/sources/outlets/${id}/series?hours=${hoursSel.value}`);
    GP.setHTML(document.getElementById('out-title'), html`${GP.name(d.enterprise)} · ${GP.name(d.outlet)}`);
    const setTime = _('Set device time (1012)');
    const point = (p) => {
      const seen = _('last contact {t}', { t: local(p.last_seen_utc) });
      const staff = document.body.dataset.staff === '1';
      return html`MN <span translate="no">${p.mn}</span> · HJ 212-${p.edition} · ${seen} ${staff ? html`<button type="button" class="time-sync secondary" data-id="${p.id}">${setTime}</button>` : ''} <span class="note">${p.data_note_label || GP.name(p.data_note)}</span>`;
    };
    GP.setHTML(document.getElementById('out-points'), GP.join(d.points.map(point), html`<br>`));
    document.querySelectorAll('button.time-sync').forEach((b) => (b.onclick = async () => {
      try { const r = await send(`/api/sources/points/${b.dataset.id}/time-sync`, 'POST'); b.textContent = _('queued QN {qn}', { qn: r.qn }); } catch (e) { b.textContent = e.message; }
    }));
    // re-keying a device is its own confirmed action: the officer repeats the device's MN
    const keys = document.getElementById('out-rekey');
    if (keys && document.body.dataset.staff === '1') {
      const k = {
        newPw: _('new access password (the PW set on the logger)'), confirm: _('To confirm, type the device MN again'), change: _('Change access password'),
        again: _('the new access password again'),
      };
      const rekeyForm = (p) => {
        const failures = p.pw_failures ? _('{n} frame(s) with a wrong access password, the last from {peer} ({t})', { n: p.pw_failures, peer: p.pw_failure_peer, t: local(p.pw_failure_utc) }) : '';
        const device = _('Device MN {mn}', { mn: p.mn });
        return html`<form class="inline-form rekey" data-id="${p.id}" data-mn="${p.mn}">
        ${failures ? html`<span class="bad">${failures}</span>` : ''}
        <label>${device} · ${k.newPw}
          <input name="pw" type="password" required maxlength="16" autocomplete="off"></label>
        <label>${k.again} <input name="pw2" type="password" required maxlength="16" autocomplete="off"></label>
        <label>${k.confirm} <input name="confirm_mn" required maxlength="32" autocomplete="off"></label>
        <button>${k.change}</button><span class="result" role="status"></span></form>`;
      };
      GP.setHTML(keys, d.points.map(rekeyForm));
      keys.querySelectorAll('form.rekey').forEach((f) => (f.onsubmit = async (ev) => {
        ev.preventDefault();
        const out = f.querySelector('.result');
        if (f.elements.pw.value !== f.elements.pw2.value) { out.className = 'result bad'; out.textContent = _('The two passwords differ'); return; }
        if (f.elements.confirm_mn.value.trim() !== f.dataset.mn) { out.className = 'result bad'; out.textContent = _("The MN you typed is not this device's"); return; }
        try {
          await send(`/api/sources/points/${f.dataset.id}/rekey`, 'POST', { pw: f.elements.pw.value, confirm_mn: f.elements.confirm_mn.value.trim() });
          out.className = 'result good'; out.textContent = _('Changed; the change is in the audit trail'); f.reset();
        } catch (e) { out.className = 'result bad'; out.textContent = e.message; }
      }));
    }
    const box = document.getElementById('out-charts');
    const shown = d.channels.filter((c) => c.points.length);
    const chartCard = (c, i) => {
      // a unit when the channel has one (pH has none: its file writes "-")
      const unitless = !c.unit || c.unit === '-';
      const title = c.converted ? fill(_('{name} ({unit}) — converted values'), { name: factor(c), unit: unit(c.unit) })
        : unitless ? factor(c) : fill(_('{name} ({unit})'), { name: factor(c), unit: unit(c.unit) });
      const limit = c.limit ? _('limit {v}', { v: c.limit }) : '';
      return html`<div class="card"><h2>${title}${c.limit ? html` · ${limit} <span class="note" translate="no">${c.limit_standard}</span>` : ''}</h2><div class="chart" id="ch-${i}" style="height:240px"></div></div>`;
    };
    const noData = _('No data');
    GP.setHTML(box, shown.length ? shown.map(chartCard) : html`<p class="note">${noData}</p>`);
    shown.forEach((c, i) => {
      const val = (p) => (c.converted && p[2] !== null ? p[2] : p[1]);
      const bad = c.points.filter((p) => /[FMDCTB]/.test(p[3] || ''));
      const marks = [];
      if (c.limit) marks.push({ yAxis: c.limit, name: _('limit'), lineStyle: { color: '#c0392b', type: 'solid', width: 2 }, label: { formatter: _('limit {v}', { v: c.limit }) } });
      if (c.pre_alarm) marks.push({ yAxis: c.pre_alarm, lineStyle: { color: '#e67e22', type: 'dashed' }, label: { formatter: _('pre-alarm {v}', { v: GP.fmt(c.pre_alarm, 2) }) } });
      GP.chart('ch-' + i, {
        tooltip: { trigger: 'axis', formatter: (ps) => GP.markup(html`${local(ps[0].data[0])}<br>${GP.fmt(ps[0].data[1], 3)} ${unit(c.unit)} ${ps[0].data[2] || ''}`) },
        grid: { left: 60, right: 80, top: 20, bottom: 30 },
        xAxis: { type: 'time' }, yAxis: { type: 'value', scale: false, max: c.limit ? (v) => Number(Math.max(v.max, c.limit * 1.1).toPrecision(3)) : null },
        series: [{ type: 'line', showSymbol: false, data: c.points.map((p) => [p[0], val(p), p[3]]), itemStyle: { color: GP.palette[0] },
          markLine: marks.length ? { symbol: 'none', data: marks } : undefined,
          markArea: bad.length ? { itemStyle: { color: 'rgba(241,196,15,0.25)' }, data: bad.map((p) => [{ xAxis: p[0], name: p[3] }, { xAxis: new Date(new Date(p[0]).getTime() + 3600e3).toISOString() }]) } : undefined }],
      });
    });
    outletHistory(d, shown, hoursSel.value);
    GP.setHTML(document.getElementById('out-commands'), html`${d.commands.map((c) => html`<li>${c.cn} QN ${c.qn} · ${word(COMMAND_STATUS, c.status)} · ${GP.name(c.requested_by)} ${local(c.requested_utc)} ${c.result ? GP.name(c.result) : ''}</li>`)}`);
    hoursSel.onchange = () => GP.outletPage(id);
    await GP.ready();
  });

  // the outlet's hourly data as a table (newest first): each channel's value in its unit, and the
  // flags other than N by channel; it is searched, sorted, paged and exported like every long table
  function outletHistory(d, chans, hours) {
    const box = document.getElementById('out-history');
    if (!box) return;
    const card = box.closest('.card');
    card.hidden = !chans.length; // without data the charts' card already says so
    if (!chans.length) { GP.setHTML(box, ''); return; }
    const val = (c, p) => (c.converted && p[2] !== null ? p[2] : p[1]);
    const byTime = chans.map((c) => new Map(c.points.map((p) => [p[0], p])));
    const times = [...new Set(chans.flatMap((c) => c.points.map((p) => p[0])))].sort().reverse();
    const headOf = (c) => (!c.unit || c.unit === '-' ? channelName(c) : fill(_('{name} ({unit})'), { name: channelName(c), unit: unit(c.unit) }));
    const w = { time: _('Time'), flags: _('Flags (other than N)'), title: _('Hourly data') };
    const cell = (c, p) => {
      if (!p) return html`<td class="num">–</td>`;
      const v = val(c, p);
      const cls = v === null ? '' : c.limit && v > c.limit ? 'bad' : c.pre_alarm && v >= c.pre_alarm ? 'warn' : '';
      return html`<td class="num ${cls}">${GP.fmt(v, 3)}</td>`;
    };
    const flagsOf = (t) => GP.join(chans.map((c, i) => [c, byTime[i].get(t)]).filter(([, p]) => p && p[3] && p[3] !== 'N')
      .map(([c, p]) => html`${factor(c)} <b translate="no">${p[3]}</b>`), ' · ');
    const row = (t) => html`<tr><td data-sort="${t}">${local(t)}</td>${chans.map((c, i) => cell(c, byTime[i].get(t)))}<td>${flagsOf(t)}</td></tr>`;
    const exportName = `${w.title} ${d.enterprise} ${d.outlet} ${hours}h`;
    GP.setHTML(box, html`<table class="data" id="out-history-table" data-export-name="${exportName}"><thead><tr><th>${w.time}</th>${chans.map((c) => html`<th class="num">${headOf(c)}</th>`)}<th>${w.flags}</th></tr></thead>
      <tbody>${times.map(row)}</tbody></table>`);
    GP.table(document.getElementById('out-history-table'));
  }

  GP.alarmsPage = () => guarded(async () => {
    const st = document.getElementById('al-status'), ru = document.getElementById('al-rule');
    const allRules = _('all rules');
    if (!ru.options.length) GP.setHTML(ru, html`<option value="">${allRules}</option>${Object.keys(RULES).map((k) => html`<option value="${k}">${rule(k)}</option>`)}`);
    const q = new URLSearchParams({ status: st.value }); if (ru.value) q.set('rule', ru.value);
    const rows = await GP.api('/api/alarms?' + q);
    const by = {}; for (const a of rows) by[a.rule] = (by[a.rule] || 0) + 1;
    GP.chart('chart-alarms', {
      tooltip: {}, grid: { left: 170, right: 30, top: 10, bottom: 20 },
      xAxis: { type: 'value', minInterval: 1 }, yAxis: { type: 'category', data: Object.keys(by).map(rule) },
      series: [{ type: 'bar', data: Object.values(by), itemStyle: { color: '#c0392b' } }],
    });
    const tb = document.querySelector('#al-table tbody');
    const staff = document.body.dataset.officer === '1'; // a zone's officers act on their zone's alarms
    const w = { ongoing: _('ongoing'), ack: _('Acknowledge'), close: _('Close') };
    const row = (a) => {
      const since = a.cleared_utc ? _('cleared {t}', { t: local(a.cleared_utc) }) : w.ongoing;
      const acts = staff ? html`${a.status === 'open' ? html`<button type="button" class="ack">${w.ack}</button>` : ''} ${a.status !== 'closed' ? html`<button type="button" class="close secondary">${w.close}</button>` : ''}` : '';
      return html`<tr data-id="${a.id}" class="sev-${a.severity}"><td class="num">${a.id}</td><td><span class="status ${a.severity}">${word(SEVERITY, a.severity)}</span></td><td>${rule(a.rule)}</td><td><a href="/monitoring/outlet/${a.outlet_id}"><span translate="no">${a.enterprise}</span><br><span class="note" translate="no">${a.outlet}</span></a></td><td>${a.channel_label || (a.channel || a.code ? GP.name(a.channel || a.code) : '')}</td><td>${a.message}</td><td data-sort="${a.opened_utc}">${local(a.opened_utc)}<br><span class="note">${since}</span></td><td>${word(ALARM_STATUS, a.status)}${a.ack_by ? html`<br><span class="note"><span translate="no">${a.ack_by}</span>: <span translate="no">${a.ack_note}</span></span>` : ''}${a.closed_by ? html`<br><span class="note"><span translate="no">${a.closed_by}</span>: <span translate="no">${a.close_note}</span></span>` : ''}</td>
        <td class="actions">${acts}</td></tr>`;
    };
    GP.setHTML(tb, rows.length ? rows.map(row) : html`<tr class="empty"><td colspan="9" class="note">${_('No alarms with this status.')}</td></tr>`);
    // acknowledging or closing opens a small form under the alarm (a closing note is required)
    tb.querySelectorAll('button.ack, button.close').forEach((b) => (b.onclick = () => {
      const tr = b.closest('tr');
      const closing = b.classList.contains('close');
      tb.querySelectorAll('tr.alarm-form').forEach((x) => x.remove());
      // closing an alarm whose condition still holds: the next hour that breaks the rule opens a new one
      const live = rows.find((a) => String(a.id) === tr.dataset.id && !a.cleared_utc);
      const warn = closing && live ? _('This alarm is still going on: closing it does not stop it, and the next hour that breaks the rule opens a new alarm. Close it when the cause is fixed, or acknowledge it for now.') : '';
      const label = closing ? _('What was found and done (required)') : _('Note on acknowledging (optional)');
      const submit = closing ? _('Close the alarm') : _('Acknowledge the alarm');
      const cancel = _('Cancel');
      GP.addHTML(tr, html`<tr class="alarm-form"><td colspan="9"><form class="inline-form">${warn ? html`<p class="note warn ongoing-warning">${warn}</p>` : ''}
        <label class="wide">${label} <textarea name="note" rows="2" maxlength="2000" ${closing ? html`required minlength="4"` : ''}></textarea></label>
        <button>${submit}</button> <button type="button" class="secondary cancel">${cancel}</button> <span class="bad result" role="alert"></span></form></td></tr>`, 'afterend');
      const fr = tr.nextElementSibling;
      const f = fr.querySelector('form');
      f.elements.note.focus();
      fr.querySelector('button.cancel').onclick = () => fr.remove();
      f.onsubmit = async (ev) => {
        ev.preventDefault();
        const note = f.elements.note.value.trim();
        if (closing && note.length < 4) { fr.querySelector('.result').textContent = _('Say what was found and what was done before closing.'); return; }
        try { await send(`/api/alarms/${tr.dataset.id}/${closing ? 'close' : 'ack'}`, 'POST', { note }); await GP.alarmsPage(); }
        catch (e) { fr.querySelector('.result').textContent = e.message; }
      };
    }));
    GP.table(document.getElementById('al-table'));
    document.getElementById('al-count').textContent = rows.length;
    st.onchange = ru.onchange = () => GP.alarmsPage();
    await GP.ready();
  });

  GP.enterprisesPage = (selected) => guarded(async () => {
    const ents = await GP.api('/api/sources/enterprises');
    const id = selected || (ents[0] && ents[0].id);
    // the enterprises as a table the officer searches, sorts, pages and exports; a name opens its file
    const entry = (e) => (String(e.id) === String(id)
      ? html`<tr class="active" aria-current="page"><td translate="no"><b>${e.code}</b></td><td><a href="?id=${e.id}" translate="no"><b>${e.name}</b></a></td><td class="num">${e.outlets}</td></tr>`
      : html`<tr><td translate="no">${e.code}</td><td><a href="?id=${e.id}" translate="no">${e.name}</a></td><td class="num">${e.outlets}</td></tr>`);
    const noEnterprises = _('No enterprises in the file yet');
    const entTable = document.getElementById('ent-table');
    GP.setHTML(entTable.tBodies[0], ents.length ? ents.map(entry) : html`<tr class="empty"><td colspan="3" class="note">${noEnterprises}</td></tr>`);
    GP.table(entTable);
    // the page that holds the open enterprise
    const at = entTable.gpTable.rows.findIndex((r) => r.classList.contains('active'));
    if (at >= 25 && !entTable.gpTable.query && entTable.gpTable.sortCol === null) { entTable.gpTable.page = Math.floor(at / 25); GP.table(entTable); }
    if (!id) { await GP.ready(); return; }
    const f = await GP.api('/api/sources/enterprises/' + id);
    const staff = document.body.dataset.staff === '1';
    const box = document.getElementById('ent-file');
    const w = {
      water: _('waste water'), gas: _('flue gas'), factor: _('Factor'), code: _('Code'), unit: _('Unit'), limit: _('Emission limit'), standard: _('Standard'),
      preAlarm: _('Pre-alarm share'), converted: _('Converted'), edit: _('Edit limit'), permits: _('Discharge permits'), contacts: _('Contacts'),
      history: _('History'), fileHistory: _("History of this enterprise's records"),
    };
    // the maker and model, the standard of a limit, notes, names and numbers are the file's data
    const channels = (p) => html`<p>MN <b translate="no">${p.mn}</b> · HJ 212-${p.edition}${p.maker || p.model ? html` · ${GP.name(`${p.maker} ${p.model}`.trim())}` : ''}</p>
      <table class="data channels"><thead><tr><th>${w.factor}</th><th>${w.code}</th><th>${w.unit}</th><th class="num">${w.limit}</th><th>${w.standard}</th><th class="num">${w.preAlarm}</th><th>${w.converted}</th><th></th></tr></thead><tbody>
      ${p.channels.map((c) => html`<tr data-id="${c.id}"><td>${factor(c)}</td><td translate="no">${c.code}</td><td>${unit(c.unit)}</td><td class="num"><span class="v-limit">${c.limit_value ?? ''}</span></td><td class="v-standard" translate="no">${c.limit_standard}</td><td class="num">${c.pre_alarm_ratio ?? ''}</td><td>${c.use_zs ? '✓' : ''}</td><td>${staff && !c.is_flow ? html`<button class="edit">${w.edit}</button>` : ''} <button type="button" class="secondary history-btn" data-entity="channel" data-key="${p.mn}/${c.code}">${w.history}</button></td></tr>`)}</tbody></table>`;
    const receivingText = { river: _('Receiving water: {water} ({river} km {km})'), plain: _('Receiving water: {water}') };
    const outlet = (o) => {
      const water = o.receiving_water ? GP.name(o.receiving_water) : '–';
      const receiving = o.river ? fill(receivingText.river, { water, river: GP.name(o.river), km: o.river_km }) : fill(receivingText.plain, { water });
      return html`
      <div class="card outlet"><h3><a href="/monitoring/outlet/${o.id}" translate="no">${o.code} ${o.name}</a> · ${o.medium === 'water' ? w.water : w.gas}</h3>
      <p>${receiving}${o.discharge_rule ? html` · ${GP.name(o.discharge_rule)}` : ''} · ${o.latitude ?? ''}, ${o.longitude ?? ''} <span class="note" translate="no">${o.note}</span></p>
      ${o.points.map(channels)}</div>`;
    };
    const permit = (p) => html`<tr><td translate="no">${p.number}</td><td>${management(p.management)}</td><td translate="no">${p.issuer}</td><td>${p.valid_from || ''} – ${p.valid_to || ''}</td><td class="note" translate="no">${p.note}</td></tr>`;
    const contact = (c) => html`<tr><td translate="no">${c.name}</td><td translate="no">${c.role}</td><td translate="no">${c.phone}</td><td translate="no">${c.email}</td></tr>`;
    const hp = { number: _('Permit number'), management: _('Management class'), issuer: _('Issuer'), valid: _('Validity'), note: _('Note') };
    const hc = { name: _('Name'), role: _('Role'), phone: _('Phone'), email: _('E-mail') };
    box.dataset.enterprise = f.name;
    GP.setHTML(box, html`<h2 translate="no">${f.code} ${f.name}</h2><p class="note" translate="no">${f.note}</p>
      <p><button type="button" class="secondary history-btn" id="ent-history-btn" data-enterprise-id="${f.id}" data-target="ent-history">${w.fileHistory}</button></p><div id="ent-history" class="card" hidden></div>${f.outlets.map(outlet)}<div class="card"><h3>${w.permits}</h3><table class="data"><thead><tr><th>${hp.number}</th><th>${hp.management}</th><th>${hp.issuer}</th><th>${hp.valid}</th><th>${hp.note}</th></tr></thead><tbody>${f.permits.map(permit)}</tbody></table>
      <h3>${w.contacts}</h3><table class="data"><thead><tr><th>${hc.name}</th><th>${hc.role}</th><th>${hc.phone}</th><th>${hc.email}</th></tr></thead><tbody>${f.contacts.map(contact)}</tbody></table></div>`);
    GP.historyButtons(box);
    box.querySelectorAll('button.edit').forEach((b) => (b.onclick = async () => {
      const tr = b.closest('tr');
      const v = window.prompt(_('New emission limit (empty clears it)'), tr.querySelector('.v-limit').textContent);
      if (v === null) return;
      const std = v === '' ? null : window.prompt(_('Standard and table of the limit'), tr.querySelector('.v-standard').textContent);
      if (v !== '' && std === null) return;
      try { await send('/api/sources/channels/' + tr.dataset.id, 'PATCH', v === '' ? { limit_value: null } : { limit_value: Number(v), limit_standard: std }); GP.enterprisesPage(id); } catch (e) { window.alert(e.message); }
    }));
    await GP.ready();
  });

  // staff: add or change one row of a table of the enterprise file (validated like the import)
  GP.sourceForm = async () => {
    const schema = await GP.api('/api/sources/schema');
    const kindSel = document.getElementById('ent-kind');
    GP.setHTML(kindSel, html`${Object.entries(schema).map(([k, v]) => html`<option value="${k}">${v.label}</option>`)}`);
    kindSel.value = 'outlets';
    const fields = document.getElementById('ent-fields');
    const draw = () => {
      const t = schema[kindSel.value];
      const current = document.getElementById('ent-file').dataset.enterprise || '';
      GP.setHTML(fields, html`${t.columns.map((c) => html`<label>${t.labels[c] || c}${t.required.includes(c) ? ' *' : ''} <input name="${c}" value="${c === 'enterprise' ? current : ''}"></label>`)}`);
    };
    kindSel.onchange = draw; draw();
    document.getElementById('ent-form').onsubmit = async (ev) => {
      ev.preventDefault();
      const row = {}; fields.querySelectorAll('input').forEach((i) => { if (i.value !== '') row[i.name] = i.value; });
      const box = document.getElementById('ent-form-result');
      const r = await GP.fetch('/api/sources/' + kindSel.value, { method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: JSON.stringify([row]) });
      const d = await r.json();
      const errors = (d.errors || []).map((e) => `${e.column_label || e.column}: ${e.reason}`);
      const saved = _('Saved');
      GP.setHTML(box, d.ok ? html`<p class="good">${saved}</p>` : html`<p class="bad">${errors.length ? GP.join(errors, html`<br>`) : d.detail}</p>`);
      if (d.ok) GP.enterprisesPage(new URLSearchParams(window.location.search).get('id') || '');
    };
  };

  GP.settingsForm = async () => {
    const spec = await GP.api('/api/settings/monitoring/spec');
    const admin = document.body.dataset.role === 'admin';
    const box = document.getElementById('set-fields');
    // each setting's name and unit come with the spec, in the page's language
    const byKey = Object.fromEntries(spec.map((s) => [s.key, s]));
    const label = (k) => byKey[k].label || k;
    const unit = (k) => byKey[k].unit || '';
    GP.setHTML(box, spec.filter((s) => admin || s.key !== 'webhook_allow_private').map((s) => (s.kind === 'bool'
      ? html`<label class="check"><span><input type="checkbox" name="${s.key}" ${s.value ? html`checked` : ''}> ${label(s.key)}</span></label>`
      : s.kind === 'number'
        ? html`<label>${label(s.key)} <span><input name="${s.key}" type="number" value="${s.value}" min="${s.min}" max="${s.max}" step="${s.whole ? 1 : 'any'}" required> ${unit(s.key)}</span></label>`
        : html`<label>${label(s.key)} <input name="${s.key}" value="${s.value}" maxlength="2000" type="url" placeholder="https://" translate="no"></label>`)));
    document.getElementById('set-form').onsubmit = async (ev) => {
      ev.preventDefault();
      const body = {};
      for (const s of spec) {
        const i = box.querySelector(`input[name="${s.key}"]`);
        if (!i) continue;
        const v = s.kind === 'bool' ? i.checked : s.kind === 'number' ? Number(i.value) : i.value.trim();
        if (v !== s.value) body[s.key] = v; // only what changed: each change is kept with who and when
      }
      const out = document.getElementById('set-result');
      const w = { nothing: _('Nothing changed'), saved: _('Saved; the change is in the audit trail') };
      if (!Object.keys(body).length) { GP.setHTML(out, html`<p class="note">${w.nothing}</p>`); return; }
      try { await send('/api/settings/monitoring', 'PUT', body); GP.setHTML(out, html`<p class="good">${w.saved}</p>`); await GP.settingsForm(); }
      catch (e) { GP.setHTML(out, html`<p class="bad">${e.message}</p>`); }
    };
  };

  // staff: upload a whole enterprise file (xlsx/csv); all-or-nothing, the rejected rows listed
  function importForm() {
    const f = document.getElementById('ent-import');
    if (!f) return;
    f.onsubmit = async (ev) => {
      ev.preventDefault();
      const r = await GP.fetch('/api/sources/import', { method: 'POST', body: new FormData(f), headers: { 'X-CSRF-Token': document.body.dataset.csrf }, credentials: 'same-origin' });
      const d = await r.json();
      // each table by its label in the page's language
      const schema = d.ok ? await GP.api('/api/sources/schema') : {};
      const table = (k) => (schema[k] ? schema[k].label : k);
      const text = d.ok
        ? _('Imported: {tables}', { tables: GP.list(Object.entries(d.imported).filter(([, v]) => v).map(([k, v]) => table(k) + ' ' + v)) })
        : _('File rejected; nothing was imported');
      GP.setHTML(document.getElementById('ent-import-result'), d.ok
        ? html`<p class="good">${text}</p>`
        : html`<p class="bad">${text}</p><table class="data"><tbody>${(d.errors || []).map((e) => html`<tr><td translate="no">${e.file}</td><td translate="no">${e.sheet}</td><td>${e.row}</td><td>${e.column_label || e.column}</td><td>${e.reason}</td></tr>`)}</tbody></table>`);
    };
  }

  // the samples of the chosen section, one row per sampling day (newest first): its GB 3838 class and
  // each item's value; a value over the target class is red
  async function sectionSamples(code, sec) {
    const box = document.getElementById('tr-samples');
    if (!box) return;
    const none = _('no samples yet');
    if (!code) { GP.setHTML(box, html`<p class="note">${none}</p>`); return; }
    const s = await GP.api(`/api/tracing/sections/${encodeURIComponent(code)}/samples`);
    if (!s.days.length) { GP.setHTML(box, html`<p class="note">${none}</p>`); return; }
    const itemName = (it) => (GP.zh() ? it.name_zh : it.name_en) || GP.name(it.item);
    const headOf = (it) => (!it.unit || it.unit === '-' ? itemName(it) : fill(_('{name} ({unit})'), { name: itemName(it), unit: unit(it.unit) }));
    const w = { date: _('Date'), cls: _('Water quality class'), title: _('Samples at this section'), target: sec ? _('target class {c}', { c: sec.target_class }) : '' };
    const row = (day) => html`<tr><td>${day.date}</td><td data-sort="${['I', 'II', 'III', 'IV', 'V', '劣V'].indexOf(day.class)}" class="${day.meets_target === false ? 'bad' : ''}">${day.class ? waterClass(day.class) : '–'}</td>${s.items.map((it) => {
      const v = day.values[it.item];
      return html`<td class="num ${day.exceedance && day.exceedance[it.item] ? 'bad' : ''}">${v === undefined ? '–' : GP.fmt(v, 3)}</td>`;
    })}</tr>`;
    const exportName = `${w.title} ${s.section}`;
    GP.setHTML(box, html`<p class="note">${w.target}</p><table class="data" id="tr-samples-table" data-export-name="${exportName}"><thead><tr><th>${w.date}</th><th>${w.cls}</th>${s.items.map((it) => html`<th class="num">${headOf(it)}</th>`)}</tr></thead>
      <tbody>${s.days.map(row)}</tbody></table>`);
    GP.table(document.getElementById('tr-samples-table'));
  }

  let sections = [];
  GP.tracingPage = () => guarded(async () => {
    const sel = document.getElementById('tr-section');
    if (!sel.options.length) {
      sections = await GP.api('/api/tracing/sections');
      // the sections by river: names of rivers and sections are data
      const rivers = [...new Set(sections.map((s) => s.river))];
      GP.setHTML(sel, rivers.map((r) => html`<optgroup label="${r}" translate="no">${sections.filter((s) => s.river === r).map((s) => html`<option value="${s.code}">${s.name}</option>`)}</optgroup>`));
      const hg = sections.find((s) => /入湖口/.test(s.name) && s.latest_sample); if (hg) sel.value = hg.code;
    }
    const win = document.getElementById('tr-window');
    sel.onchange = win.onchange = () => GP.tracingPage();
    const sec = sections.find((s) => s.code === sel.value);
    const n = {
      target: sec ? _('target class {c}', { c: sec.target_class }) : '',
      sample: sec && sec.latest_sample ? _('latest sample {date}', { date: sec.latest_sample }) : _('no samples yet'),
    };
    document.getElementById('tr-section-note').textContent = sec ? `${n.target} · ${n.sample}` : '';
    const change = document.getElementById('tr-change');
    const rank = document.getElementById('tr-rank');
    await sectionSamples(sel.value, sec);
    const r0 = await GP.fetch('/api/tracing?' + new URLSearchParams({ section: sel.value, window_hours: win.value }), { headers: { Accept: 'application/json' } });
    const d = await r0.json().catch(() => ({}));
    if (!r0.ok) { // e.g. a section without samples: the server says why, in the page's language
      GP.setHTML(change, html`<span class="bad">${typeof d.detail === 'string' ? d.detail : String(r0.status)}</span>`);
      GP.setHTML(rank, '');
      GP.chart('chart-trace', { series: [] });
      await GP.ready();
      return;
    }
    const c = d.change;
    const item = (k) => (d.item_names && d.item_names[k]) || k;
    const over = GP.list(c.items_over_target.map((k) => _('{item} {x}×', { item: item(k), x: GP.fmt(c.exceedance[k], 2) })));
    const t = {
      where: _('({river} km {km})'),
      cls: _('{date}: water quality class', { date: c.date }),
      before: c.previous_class ? _('(before, {date}: {cls})', { date: c.previous_date, cls: waterClass(c.previous_class) }) : '',
      target: _('target class {c}', { c: c.target }),
      over: c.items_over_target.length ? _('over target: {items}', { items: over }) : _('within target'),
      window: _('window {from} – {to}', { from: local(d.window.start_utc), to: local(d.window.end_utc) }),
    };
    GP.setHTML(change, html`<b translate="no">${d.section}</b> ${fill(t.where, { river: GP.name(d.river), km: d.km })} ${t.cls} <b class="${c.worsened ? 'bad' : 'good'}">${waterClass(c.class)}</b>
      ${t.before} · ${t.target} · ${t.over}
      <br><span class="note">${t.window} · ${d.method}</span>`);
    const r = d.ranking;
    const kg = GP.unit('kg'), mgL = GP.unit('mg/L');
    GP.chart('chart-trace', {
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 200, right: 40, top: 30, bottom: 20 },
      yAxis: { type: 'category', inverse: true, data: r.map((x) => `${x.rank}. ${x.enterprise.replace(/有限公司/, '')}`) },
      xAxis: { type: 'value', name: kg },
      series: d.items.map((it, i) => ({ name: item(it), type: 'bar', data: r.map((x) => x.loads[it].kg), itemStyle: { color: GP.palette[i] } })),
    });
    const rows = r.map((x) => html`<tr><td>${x.rank}</td><td><a href="/monitoring/outlet/${x.outlet_id}">${GP.name(x.enterprise)} · ${GP.name(x.outlet)}</a></td><td class="num">${GP.fmt(x.distance_km, 1)}</td><td class="num">${GP.fmt(x.water_m3, 0)}</td>${d.items.map((it) => html`<td class="num">${GP.fmt(x.loads[it].kg, 3)}</td><td class="num">${GP.fmt(x.loads[it].mean_mg_l, 2)}</td>`)}<td class="num">${GP.pct(x.share, 1)}</td></tr>`);
    const h = { outlet: _('Outlet'), km: _('km upstream of the section'), water: _('waste water m³'), share: _('Share') };
    const itemHeads = d.items.map((it) => [_('{item} load ({unit})', { item: item(it), unit: kg }), _('{item} mean ({unit})', { item: item(it), unit: mgL })]);
    const rankTitle = _('Upstream outlets ranked by load');
    const rankName = `${rankTitle} ${d.section}`;
    GP.setHTML(rank, html`<table class="data" id="tr-table" data-export-name="${rankName}"><thead><tr><th>#</th><th>${h.outlet}</th><th class="num">${h.km}</th><th class="num">${h.water}</th>${itemHeads.map(([load, mean]) => html`<th class="num">${load}</th><th class="num">${mean}</th>`)}<th class="num">${h.share}</th></tr></thead>
      <tbody>${rows}</tbody></table>`);
    GP.table(document.getElementById('tr-table'));
    await GP.ready();
  });

  Object.assign(GP.pages, {
    monitoring: () => GP.monitoringPage(),
    outlet: (id) => GP.outletPage(Number(id)),
    alarms: () => GP.alarmsPage(),
    enterprises: (id) => {
      GP.enterprisesPage(id);
      if (document.getElementById('ent-form')) { GP.sourceForm(); GP.settingsForm(); }
      importForm();
    },
    tracing: () => GP.tracingPage(),
  });
})();

/* greenpark pollution-source pages: monitoring overview, outlet, alarms, enterprise file, tracing. */
(function () {
  'use strict';
  const GP = window.GP;
  const L = (a, b) => GP.L(a, b);
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const COLORS = { red: '#c0392b', orange: '#e67e22', green: '#2f855a', never: '#95a5a6' };
  const STATUS = { red: ['超标/离线', 'exceedance / offline'], orange: ['预警', 'warning'], green: ['正常', 'normal'], never: ['未上线', 'never reported'] };
  const RULES = {
    exceedance: ['超标', 'exceedance'], pre_alarm: ['超标预警', 'pre-alarm'], missing_data: ['数据缺失', 'missing data'],
    offline: ['设备离线', 'offline'], abnormal_flag: ['异常标记持续', 'abnormal flags'], flat_line: ['数值恒定（疑似造假）', 'flat line'],
    concentration_collapse: ['浓度骤降流量不变（疑似造假）', 'concentration collapse'], held_below_limit: ['长期贴线（疑似造假）', 'held under limit'],
    long_maintenance: ['长时间维护（疑似造假）', 'long maintenance'],
  };
  const rule = (r) => L(...(RULES[r] || [r, r]));
  const local = (iso) => (iso ? new Date(iso).toLocaleString(GP.zh() ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false }) : '–');
  async function send(url, method, body) {
    const r = await fetch(url, { method, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.detail || (data.errors ? data.errors.map((e) => `${e.column}: ${e.reason}`).join('; ') : r.status));
    return data;
  }
  async function guarded(fn) {
    try { await fn(); } catch (e) {
      const box = document.getElementById('page-error');
      if (box) { box.hidden = false; box.textContent = /401/.test(e.message) ? L('请先登录', 'Please log in') : /403/.test(e.message) ? L('无权查看', 'Not allowed') : e.message; }
      document.body.dataset.ready = '1';
    }
  }

  GP.monitoringPage = () => guarded(async () => {
    const d = await GP.api('/api/sources/overview');
    for (const k of ['red', 'orange', 'green', 'never']) document.getElementById('mon-' + k).textContent = d.counts[k];
    const pts = d.points;
    GP.chart('chart-map', {
      tooltip: { formatter: (p) => `${esc(p.data.p.enterprise)}<br>${esc(p.data.p.outlet)} · ${L(...STATUS[p.data.p.status])}` },
      xAxis: { type: 'value', scale: true, name: L('经度', 'lon'), axisLabel: { formatter: (v) => v.toFixed(2) } },
      yAxis: { type: 'value', scale: true, name: L('纬度', 'lat'), axisLabel: { formatter: (v) => v.toFixed(2) } },
      grid: { left: 60, right: 30, top: 30, bottom: 40 },
      series: [{ type: 'scatter', symbolSize: (v, p) => (p.data.p.medium === 'gas' ? 22 : 16), symbol: 'circle',
        data: pts.filter((p) => p.longitude).map((p) => ({ value: [p.longitude, p.latitude], p, itemStyle: { color: COLORS[p.status] } })),
        label: { show: true, position: 'right', formatter: (p) => p.data.p.enterprise.replace(/有限公司|（.*?）/g, '').slice(0, 8), fontSize: 11 } }],
    }).on('click', (p) => { window.location = '/monitoring/outlet/' + p.data.p.outlet_id; });
    const grid = document.getElementById('mon-grid'); grid.innerHTML = '';
    for (const p of pts) {
      const chans = p.channels.filter((c) => c.limit || c.value !== null).map((c) => {
        const cls = c.ratio === null ? '' : c.ratio > 1 ? 'bad' : c.ratio >= 0.8 ? 'warn' : 'good';
        return `<tr><td>${esc(c.name || c.code)}${c.converted ? L('（折算）', ' (conv.)') : ''}</td><td class="num ${cls}">${GP.fmt(c.value, 2)}</td><td class="num">${c.limit ?? ''}</td><td>${esc(c.unit)}</td><td>${esc(c.flags)}</td></tr>`;
      }).join('');
      grid.insertAdjacentHTML('beforeend', `<a class="point ${p.status}" data-status="${p.status}" href="/monitoring/outlet/${p.outlet_id}">
        <div class="head"><span class="dot" style="background:${COLORS[p.status]}"></span><b>${esc(p.enterprise)}</b></div>
        <div class="sub">${esc(p.outlet)} · MN ${esc(p.mn)} · HJ 212-${p.edition} · ${p.online ? L('在线', 'online') : L('离线', 'offline')} · ${local(p.last_seen_utc)}</div>
        <table class="data mini"><thead><tr><th></th><th class="num">${L('小时均值', 'hourly')}</th><th class="num">${L('限值', 'limit')}</th><th></th><th>${L('标记', 'flag')}</th></tr></thead><tbody>${chans}</tbody></table>
        ${p.open_alarms.length ? `<div class="alarms">${[...new Set(p.open_alarms)].map((r) => rule(r) + ' ×' + p.open_alarms.filter((x) => x === r).length).join('、')}</div>` : ''}</a>`);
    }
    const unk = document.getElementById('mon-unknown');
    if (d.unknown_pending !== null) {
      const rows = await GP.api('/api/sources/unknown');
      const ents = await GP.api('/api/sources/enterprises');
      let outlets = [];
      for (const e of ents.filter((x) => x.outlets)) { const f = await GP.api('/api/sources/enterprises/' + e.id); outlets = outlets.concat(f.outlets.map((o) => ({ id: o.id, label: `${e.name} · ${o.name}` }))); }
      const opts = outlets.map((o) => `<option value="${o.id}">${esc(o.label)}</option>`).join('');
      unk.innerHTML = rows.length ? `<table class="data" id="unknown-table"><thead><tr><th>MN</th><th>${L('原因', 'reason')}</th><th>${L('状态', 'status')}</th><th class="num">${L('帧数', 'frames')}</th><th>${L('最后出现', 'last seen')}</th><th></th></tr></thead><tbody>` +
        rows.map((u) => `<tr><td>${esc(u.mn)}</td><td>${u.reason === 'bad_pw' ? L('密码错误', 'wrong PW') : L('未登记', 'not registered')}</td><td>${esc(u.status)}</td><td class="num">${u.frames}</td><td>${local(u.last_seen_utc)}</td><td>${u.status === 'pending' ? `<select data-mn="${esc(u.mn)}">${opts}</select> <button class="adopt" data-mn="${esc(u.mn)}">${L('认领', 'Adopt')}</button>` : ''}</td></tr>`).join('') + '</tbody></table>'
        : `<p class="note">${L('没有待认领设备', 'No unknown devices')}</p>`;
      unk.querySelectorAll('button.adopt').forEach((b) => (b.onclick = async () => {
        const sel = unk.querySelector(`select[data-mn="${b.dataset.mn}"]`);
        const r = await send(`/api/sources/unknown/${encodeURIComponent(b.dataset.mn)}/adopt`, 'POST', { outlet_id: Number(sel.value) });
        b.replaceWith(document.createTextNode(L(`已认领，补存 ${r.frames_stored} 帧`, `adopted, ${r.frames_stored} frames stored`)));
      }));
    } else unk.closest('.card').hidden = true;
    await GP.ready();
  });

  GP.outletPage = (id) => guarded(async () => {
    const hoursSel = document.getElementById('out-hours');
    const d = await GP.api(`/api/sources/outlets/${id}/series?hours=${hoursSel.value}`);
    document.getElementById('out-title').textContent = `${d.enterprise} · ${d.outlet}`;
    document.getElementById('out-points').innerHTML = d.points.map((p) => `MN ${esc(p.mn)} · HJ 212-${p.edition} · ${L('最后通讯', 'last seen')} ${local(p.last_seen_utc)} <button class="time-sync" data-id="${p.id}">${L('校时（1012）', 'Set device time (1012)')}</button> <span class="note">${esc(p.data_note)}</span>`).join('<br>');
    document.querySelectorAll('button.time-sync').forEach((b) => (b.onclick = async () => {
      try { const r = await send(`/api/sources/points/${b.dataset.id}/time-sync`, 'POST'); b.textContent = L(`已排队 QN ${r.qn}`, `queued QN ${r.qn}`); } catch (e) { b.textContent = e.message; }
    }));
    const box = document.getElementById('out-charts'); box.innerHTML = '';
    d.channels.filter((c) => c.points.length).forEach((c, i) => {
      box.insertAdjacentHTML('beforeend', `<div class="card"><h2>${esc(c.name || c.code)} (${esc(c.unit)})${c.converted ? L(' — 折算值', ' — converted') : ''}${c.limit ? ` · ${L('限值', 'limit')} ${c.limit} <span class="note">${esc(c.limit_standard)}</span>` : ''}</h2><div class="chart" id="ch-${i}" style="height:240px"></div></div>`);
    });
    d.channels.filter((c) => c.points.length).forEach((c, i) => {
      const val = (p) => (c.converted && p[2] !== null ? p[2] : p[1]);
      const bad = c.points.filter((p) => /[FMDCTB]/.test(p[3] || ''));
      const marks = [];
      if (c.limit) marks.push({ yAxis: c.limit, name: L('限值', 'limit'), lineStyle: { color: '#c0392b', type: 'solid', width: 2 }, label: { formatter: L('限值 ', 'limit ') + c.limit } });
      if (c.pre_alarm) marks.push({ yAxis: c.pre_alarm, lineStyle: { color: '#e67e22', type: 'dashed' }, label: { formatter: L('预警 ', 'pre-alarm ') + GP.fmt(c.pre_alarm, 2) } });
      GP.chart('ch-' + i, {
        tooltip: { trigger: 'axis', formatter: (ps) => `${local(ps[0].data[0])}<br>${GP.fmt(ps[0].data[1], 3)} ${esc(c.unit)} ${ps[0].data[2] || ''}` },
        grid: { left: 60, right: 80, top: 20, bottom: 30 },
        xAxis: { type: 'time' }, yAxis: { type: 'value', scale: false, max: c.limit ? (v) => Number(Math.max(v.max, c.limit * 1.1).toPrecision(3)) : null },
        series: [{ type: 'line', showSymbol: false, data: c.points.map((p) => [p[0], val(p), p[3]]), itemStyle: { color: GP.palette[0] },
          markLine: marks.length ? { symbol: 'none', data: marks } : undefined,
          markArea: bad.length ? { itemStyle: { color: 'rgba(241,196,15,0.25)' }, data: bad.map((p) => [{ xAxis: p[0], name: p[3] }, { xAxis: new Date(new Date(p[0]).getTime() + 3600e3).toISOString() }]) } : undefined }],
      });
    });
    if (!d.channels.some((c) => c.points.length)) box.innerHTML = `<p class="note">${L('暂无数据', 'No data')}</p>`;
    document.getElementById('out-commands').innerHTML = d.commands.length ? d.commands.map((c) => `<li>${c.cn} QN ${esc(c.qn)} · ${esc(c.status)} · ${esc(c.requested_by)} ${local(c.requested_utc)} ${esc(c.result)}</li>`).join('') : '';
    hoursSel.onchange = () => GP.outletPage(id);
    await GP.ready();
  });

  GP.alarmsPage = () => guarded(async () => {
    const st = document.getElementById('al-status'), ru = document.getElementById('al-rule');
    if (!ru.options.length) { ru.innerHTML = `<option value="">${L('全部规则', 'all rules')}</option>` + Object.keys(RULES).map((k) => `<option value="${k}">${rule(k)}</option>`).join(''); }
    const q = new URLSearchParams({ status: st.value }); if (ru.value) q.set('rule', ru.value);
    const rows = await GP.api('/api/alarms?' + q);
    const by = {}; for (const a of rows) by[a.rule] = (by[a.rule] || 0) + 1;
    GP.chart('chart-alarms', {
      tooltip: {}, grid: { left: 170, right: 30, top: 10, bottom: 20 },
      xAxis: { type: 'value', minInterval: 1 }, yAxis: { type: 'category', data: Object.keys(by).map(rule) },
      series: [{ type: 'bar', data: Object.values(by), itemStyle: { color: '#c0392b' } }],
    });
    const tb = document.querySelector('#al-table tbody'); tb.innerHTML = '';
    for (const a of rows) {
      tb.insertAdjacentHTML('beforeend', `<tr data-id="${a.id}" class="sev-${a.severity}"><td>#${a.id}</td><td><span class="status ${a.severity}">${a.severity}</span></td><td>${rule(a.rule)}</td><td><a href="/monitoring/outlet/${a.outlet_id}">${esc(a.enterprise)}<br><span class="note">${esc(a.outlet)}</span></a></td><td>${esc(a.channel || a.code)}</td><td>${esc(a.message)}</td><td>${local(a.opened_utc)}<br><span class="note">${a.cleared_utc ? L('已恢复 ', 'cleared ') + local(a.cleared_utc) : L('持续中', 'ongoing')}</span></td><td>${esc(a.status)}${a.ack_by ? `<br><span class="note">${esc(a.ack_by)}: ${esc(a.ack_note)}</span>` : ''}${a.closed_by ? `<br><span class="note">${esc(a.closed_by)}: ${esc(a.close_note)}</span>` : ''}</td>
        <td>${a.status === 'open' ? `<button class="ack">${L('确认', 'Acknowledge')}</button>` : ''} ${a.status !== 'closed' ? `<button class="close">${L('关闭', 'Close')}</button>` : ''}</td></tr>`);
    }
    tb.querySelectorAll('button').forEach((b) => (b.onclick = async () => {
      const id = b.closest('tr').dataset.id;
      const note = window.prompt(b.classList.contains('ack') ? L('确认说明（可选）', 'Note (optional)') : L('关闭说明：查明的原因与处理（必填）', 'What was found and done (required)'), '');
      if (note === null) return;
      try { await send(`/api/alarms/${id}/${b.classList.contains('ack') ? 'ack' : 'close'}`, 'POST', { note }); GP.alarmsPage(); } catch (e) { window.alert(e.message); }
    }));
    document.getElementById('al-count').textContent = rows.length;
    st.onchange = ru.onchange = () => GP.alarmsPage();
    await GP.ready();
  });

  GP.enterprisesPage = (selected) => guarded(async () => {
    const ents = await GP.api('/api/sources/enterprises');
    const list = document.getElementById('ent-list');
    list.innerHTML = ents.map((e) => `<li><a href="?id=${e.id}" class="${String(e.id) === String(selected) ? 'active' : ''}">${esc(e.code)} ${esc(e.name)}</a> <span class="note">${e.outlets} ${L('个排口', 'outlets')}</span></li>`).join('');
    const id = selected || (ents[0] && ents[0].id);
    if (!id) { await GP.ready(); return; }
    const f = await GP.api('/api/sources/enterprises/' + id);
    const staff = document.body.dataset.staff === '1';
    const box = document.getElementById('ent-file');
    box.innerHTML = `<h2>${esc(f.code)} ${esc(f.name)}</h2><p class="note">${esc(f.note)}</p>` + f.outlets.map((o) => `
      <div class="card outlet"><h3><a href="/monitoring/outlet/${o.id}">${esc(o.code)} ${esc(o.name)}</a> · ${o.medium === 'water' ? L('废水', 'waste water') : L('废气', 'flue gas')}</h3>
      <p>${L('受纳水体', 'Receiving water')}: ${esc(o.receiving_water || '–')} ${o.river ? `(${esc(o.river)} km ${o.river_km})` : ''} · ${esc(o.discharge_rule)} · ${o.latitude ?? ''}, ${o.longitude ?? ''} <span class="note">${esc(o.note)}</span></p>
      ${o.points.map((p) => `<p>MN <b>${esc(p.mn)}</b> · HJ 212-${p.edition} · ${esc(p.maker)} ${esc(p.model)}</p>
      <table class="data channels"><thead><tr><th>${L('因子', 'Factor')}</th><th>${L('编码', 'Code')}</th><th>${L('单位', 'Unit')}</th><th class="num">${L('排放限值', 'Limit')}</th><th>${L('标准', 'Standard')}</th><th class="num">${L('预警比例', 'Pre-alarm')}</th><th>${L('折算', 'Converted')}</th><th></th></tr></thead><tbody>
      ${p.channels.map((c) => `<tr data-id="${c.id}"><td>${esc(c.name)}</td><td>${esc(c.code)}</td><td>${esc(c.unit)}</td><td class="num"><span class="v-limit">${c.limit_value ?? ''}</span></td><td>${esc(c.limit_standard)}</td><td class="num">${c.pre_alarm_ratio ?? ''}</td><td>${c.use_zs ? '✓' : ''}</td><td>${staff && !c.is_flow ? `<button class="edit">${L('修改限值', 'Edit limit')}</button>` : ''}</td></tr>`).join('')}</tbody></table>`).join('')}</div>`).join('') +
      `<div class="card"><h3>${L('排污许可证', 'Permits')}</h3><table class="data"><tbody>${f.permits.map((p) => `<tr><td>${esc(p.number)}</td><td>${esc(p.management)}</td><td>${esc(p.issuer)}</td><td>${p.valid_from || ''} – ${p.valid_to || ''}</td><td class="note">${esc(p.note)}</td></tr>`).join('')}</tbody></table>
      <h3>${L('联系人', 'Contacts')}</h3><table class="data"><tbody>${f.contacts.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.role)}</td><td>${esc(c.phone)}</td><td>${esc(c.email)}</td></tr>`).join('')}</tbody></table></div>`;
    box.querySelectorAll('button.edit').forEach((b) => (b.onclick = async () => {
      const tr = b.closest('tr');
      const v = window.prompt(L('新的排放限值（留空则取消限值）', 'New limit (empty clears it)'), tr.querySelector('.v-limit').textContent);
      if (v === null) return;
      const std = v === '' ? null : window.prompt(L('限值依据的标准及表号', 'Standard and table of the limit'), tr.children[4].textContent);
      if (v !== '' && std === null) return;
      try { await send('/api/sources/channels/' + tr.dataset.id, 'PATCH', v === '' ? { limit_value: null } : { limit_value: Number(v), limit_standard: std }); GP.enterprisesPage(id); } catch (e) { window.alert(e.message); }
    }));
    await GP.ready();
  });

  // staff: add or change one row of a table of the enterprise file (validated like the import)
  GP.sourceForm = async () => {
    const schema = await GP.api('/api/sources/schema');
    const kindSel = document.getElementById('ent-kind');
    kindSel.innerHTML = Object.entries(schema).map(([k, v]) => `<option value="${k}">${v.zh} · ${k}</option>`).join('');
    kindSel.value = 'outlets';
    const fields = document.getElementById('ent-fields');
    const draw = () => {
      const t = schema[kindSel.value];
      const current = document.querySelector('#ent-file h2');
      fields.innerHTML = t.columns.map((c) => `<label>${c}${t.required.includes(c) ? ' *' : ''} <input name="${c}" value="${c === 'enterprise' && current ? esc(current.textContent.replace(/^\S+\s/, '')) : ''}"></label>`).join('');
    };
    kindSel.onchange = draw; draw();
    document.getElementById('ent-form').onsubmit = async (ev) => {
      ev.preventDefault();
      const row = {}; fields.querySelectorAll('input').forEach((i) => { if (i.value !== '') row[i.name] = i.value; });
      const box = document.getElementById('ent-form-result');
      const r = await fetch('/api/sources/' + kindSel.value, { method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: JSON.stringify([row]) });
      const d = await r.json();
      box.innerHTML = d.ok ? `<p class="good">${L('已保存', 'Saved')}</p>` : `<p class="bad">${(d.errors || []).map((e) => `${esc(e.column)}: ${esc(e.reason)}`).join('<br>') || esc(d.detail)}</p>`;
      if (d.ok) GP.enterprisesPage(new URLSearchParams(window.location.search).get('id') || '');
    };
  };

  GP.settingsForm = async () => {
    const cfg = await GP.api('/api/settings/monitoring');
    const box = document.getElementById('set-fields');
    box.innerHTML = Object.entries(cfg).map(([k, v]) => typeof v === 'boolean'
      ? `<label><span><input type="checkbox" name="${k}" ${v ? 'checked' : ''}> ${k}</span></label>`
      : `<label>${k} <input name="${k}" value="${esc(v)}" ${typeof v === 'number' ? 'type="number" step="any" min="0"' : ''}></label>`).join('');
    document.getElementById('set-form').onsubmit = async (ev) => {
      ev.preventDefault();
      const body = {};
      box.querySelectorAll('input').forEach((i) => { const old = cfg[i.name]; body[i.name] = typeof old === 'boolean' ? i.checked : typeof old === 'number' ? Number(i.value) : i.value; });
      const out = document.getElementById('set-result');
      try { await send('/api/settings/monitoring', 'PUT', body); out.innerHTML = `<p class="good">${L('已保存', 'Saved')}</p>`; } catch (e) { out.innerHTML = `<p class="bad">${esc(e.message)}</p>`; }
    };
  };

  GP.tracingPage = () => guarded(async () => {
    const sel = document.getElementById('tr-section');
    if (!sel.options.length) {
      const secs = await GP.api('/api/tracing/sections');
      sel.innerHTML = secs.map((s) => `<option value="${esc(s.code)}">${esc(s.river)} · ${esc(s.name)} (${s.target_class}${L('类', '')}) ${s.latest_sample ? '· ' + s.latest_sample : ''}</option>`).join('');
      const hg = secs.find((s) => /入湖口/.test(s.name) && s.latest_sample); if (hg) sel.value = hg.code;
    }
    const win = document.getElementById('tr-window');
    const d = await GP.api('/api/tracing?' + new URLSearchParams({ section: sel.value, window_hours: win.value }));
    const c = d.change;
    document.getElementById('tr-change').innerHTML = `<b>${esc(d.section)}</b> (${esc(d.river)} km ${d.km}) ${c.date}: ${L('水质类别', 'class')} <b class="${c.worsened ? 'bad' : 'good'}">${c.class}</b>
      ${c.previous_class ? `(${L('前次', 'before')} ${c.previous_date}: ${c.previous_class})` : ''} · ${L('目标', 'target')} ${c.target} ·
      ${c.items_over_target.length ? L('超目标项目：', 'over target: ') + c.items_over_target.map((k) => `${k} ${c.exceedance[k]}${L('倍', '×')}`).join('、') : L('未超目标', 'within target')}
      <br><span class="note">${L('窗口', 'window')} ${local(d.window.start_utc)} – ${local(d.window.end_utc)} · ${esc(d.method)}</span>`;
    const r = d.ranking;
    GP.chart('chart-trace', {
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 200, right: 40, top: 30, bottom: 20 },
      yAxis: { type: 'category', inverse: true, data: r.map((x) => `${x.rank}. ${x.enterprise.replace(/有限公司/, '')}`) },
      xAxis: { type: 'value', name: 'kg' },
      series: d.items.map((it, i) => ({ name: it, type: 'bar', data: r.map((x) => x.loads[it].kg), itemStyle: { color: GP.palette[i] } })),
    });
    document.querySelector('#tr-table tbody').innerHTML = r.map((x) => `<tr><td>${x.rank}</td><td><a href="/monitoring/outlet/${x.outlet_id}">${esc(x.enterprise)} · ${esc(x.outlet)}</a></td><td class="num">${x.distance_km}</td><td class="num">${GP.fmt(x.water_m3, 0)}</td>${d.items.map((it) => `<td class="num">${GP.fmt(x.loads[it].kg, 3)}</td><td class="num">${GP.fmt(x.loads[it].mean_mg_l, 2)}</td>`).join('')}<td class="num">${GP.pct(x.share, 1)}</td></tr>`).join('');
    document.querySelector('#tr-table thead').innerHTML = `<tr><th>#</th><th>${L('排口', 'Outlet')}</th><th class="num">${L('距断面 km', 'km upstream')}</th><th class="num">${L('排水量 m³', 'water m³')}</th>${d.items.map((it) => `<th class="num">${it} kg</th><th class="num">${it} mg/L</th>`).join('')}<th class="num">${L('占比', 'share')}</th></tr>`;
    sel.onchange = win.onchange = () => GP.tracingPage();
    await GP.ready();
  });
})();

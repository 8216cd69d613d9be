/* greenpark pollution-source pages: monitoring overview, outlet, alarms, enterprise file, tracing. */
(function () {
  'use strict';
  const GP = window.GP;
  const L = (a, b) => GP.L(a, b);
  const html = GP.html;
  const COLORS = { red: '#c0392b', orange: '#e67e22', green: '#2f855a', never: '#95a5a6' };
  const STATUS = { red: ['超标/离线', 'exceedance / offline'], orange: ['预警', 'warning'], green: ['正常', 'normal'], never: ['未上线', 'never reported'] };
  const RULES = {
    exceedance: ['超标', 'exceedance'], pre_alarm: ['超标预警', 'pre-alarm'], missing_data: ['数据缺失', 'missing data'],
    offline: ['设备离线', 'offline'], abnormal_flag: ['异常标记持续', 'abnormal flags'], flat_line: ['数值恒定（疑似造假）', 'flat line'],
    concentration_collapse: ['浓度骤降流量不变（疑似造假）', 'concentration collapse'], held_below_limit: ['长期贴线（疑似造假）', 'held under limit'],
    long_maintenance: ['长时间维护（疑似造假）', 'long maintenance'], wrong_password: ['访问密码错误（疑似冒用）', 'wrong access password'],
  };
  const rule = (r) => L(...(RULES[r] || [r, r]));
  const local = (iso) => (iso ? new Date(iso).toLocaleString(GP.zh() ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false }) : '–');
  async function send(url, method, body) {
    const r = await fetch(url, { method, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const detail = typeof data.detail === 'string' ? data.detail : Array.isArray(data.detail) ? data.detail.map((e) => e.msg).join('; ') : '';
      throw new Error(detail || (data.errors ? data.errors.map((e) => `${e.column}: ${e.reason}`).join('; ') : String(r.status)));
    }
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
      tooltip: { formatter: (p) => GP.markup(html`${p.data.p.enterprise}<br>${p.data.p.outlet} · ${L(...STATUS[p.data.p.status])}`) },
      xAxis: { type: 'value', scale: true, name: L('经度', 'lon'), axisLabel: { formatter: (v) => v.toFixed(2) } },
      yAxis: { type: 'value', scale: true, name: L('纬度', 'lat'), axisLabel: { formatter: (v) => v.toFixed(2) } },
      grid: { left: 60, right: 30, top: 30, bottom: 40 },
      series: [{ type: 'scatter', symbolSize: (v, p) => (p.data.p.medium === 'gas' ? 22 : 16), symbol: 'circle',
        data: pts.filter((p) => p.longitude).map((p) => ({ value: [p.longitude, p.latitude], p, itemStyle: { color: COLORS[p.status] } })),
        label: { show: true, position: 'right', formatter: (p) => p.data.p.enterprise.replace(/有限公司|（.*?）/g, '').slice(0, 8), fontSize: 11 } }],
    }).on('click', (p) => { window.location = '/monitoring/outlet/' + p.data.p.outlet_id; });
    GP.setHTML(document.getElementById('mon-grid'), html`${pts.map((p) => {
      const chans = p.channels.filter((c) => c.limit || c.value !== null).map((c) => {
        const cls = c.ratio === null ? '' : c.ratio > 1 ? 'bad' : c.ratio >= 0.8 ? 'warn' : 'good';
        return html`<tr><td>${c.name || c.code}${c.converted ? L('（折算）', ' (conv.)') : ''}</td><td class="num ${cls}">${GP.fmt(c.value, 2)}</td><td class="num">${c.limit ?? ''}</td><td>${c.unit}</td><td>${c.flags}</td></tr>`;
      });
      const alarms = [...new Set(p.open_alarms)].map((r) => rule(r) + ' ×' + p.open_alarms.filter((x) => x === r).length).join('、');
      return html`<a class="point ${p.status}" data-status="${p.status}" href="/monitoring/outlet/${p.outlet_id}">
        <div class="head"><span class="dot" style="background:${COLORS[p.status]}"></span><b>${p.enterprise}</b></div>
        <div class="sub">${p.outlet} · MN ${p.mn} · HJ 212-${p.edition} · ${p.online ? L('在线', 'online') : L('离线', 'offline')} · ${local(p.last_seen_utc)}</div>
        <table class="data mini"><thead><tr><th></th><th class="num">${L('小时均值', 'hourly')}</th><th class="num">${L('限值', 'limit')}</th><th></th><th>${L('标记', 'flag')}</th></tr></thead><tbody>${chans}</tbody></table>
        ${p.open_alarms.length ? html`<div class="alarms">${alarms}</div>` : ''}</a>`;
    })}`);
    const unk = document.getElementById('mon-unknown');
    if (d.unknown_pending !== null) {
      const rows = await GP.api('/api/sources/unknown');
      const ents = await GP.api('/api/sources/enterprises');
      let outlets = [];
      for (const e of ents.filter((x) => x.outlets)) { const f = await GP.api('/api/sources/enterprises/' + e.id); outlets = outlets.concat(f.outlets.map((o) => ({ id: o.id, label: `${e.name} · ${o.name}` }))); }
      const opts = outlets.map((o) => html`<option value="${o.id}">${o.label}</option>`);
      GP.setHTML(unk, rows.length
        ? html`<table class="data" id="unknown-table"><thead><tr><th>MN</th><th>${L('原因', 'reason')}</th><th>${L('状态', 'status')}</th><th class="num">${L('帧数', 'frames')}</th><th>${L('最后出现', 'last seen')}</th><th></th></tr></thead><tbody>${rows.map((u) => html`<tr><td>${u.mn}</td><td>${u.reason === 'bad_pw' ? L('密码错误', 'wrong PW') : L('未登记', 'not registered')}</td><td>${u.status}</td><td class="num">${u.frames}</td><td>${local(u.last_seen_utc)}</td><td>${u.status === 'pending' ? html`<select data-mn="${u.mn}">${opts}</select> <button class="adopt" data-mn="${u.mn}">${L('认领', 'Adopt')}</button>` : ''}</td></tr>`)}</tbody></table>`
        : html`<p class="note">${L('没有待认领设备', 'No unknown devices')}</p>`);
      unk.querySelectorAll('button.adopt').forEach((b) => (b.onclick = async () => {
        const sel = b.parentElement.querySelector('select');
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
    GP.setHTML(document.getElementById('out-points'), GP.join(d.points.map((p) => html`MN ${p.mn} · HJ 212-${p.edition} · ${L('最后通讯', 'last seen')} ${local(p.last_seen_utc)} <button class="time-sync" data-id="${p.id}">${L('校时（1012）', 'Set device time (1012)')}</button> <span class="note">${p.data_note}</span>`), html`<br>`));
    document.querySelectorAll('button.time-sync').forEach((b) => (b.onclick = async () => {
      try { const r = await send(`/api/sources/points/${b.dataset.id}/time-sync`, 'POST'); b.textContent = L(`已排队 QN ${r.qn}`, `queued QN ${r.qn}`); } catch (e) { b.textContent = e.message; }
    }));
    // re-keying a device is its own confirmed action: the officer repeats the device's MN
    const keys = document.getElementById('out-rekey');
    if (keys && document.body.dataset.staff === '1') {
      GP.setHTML(keys, d.points.map((p) => html`<form class="inline-form rekey" data-id="${p.id}" data-mn="${p.mn}">
        ${p.pw_failures ? html`<span class="bad">${L(`访问密码错误 ${p.pw_failures} 次，最近一次来自 ${p.pw_failure_peer}（${local(p.pw_failure_utc)}）`, `${p.pw_failures} frame(s) with a wrong access password, the last from ${p.pw_failure_peer} (${local(p.pw_failure_utc)})`)}</span>` : ''}
        <label>${L('设备 MN', 'Device MN')} ${p.mn} · ${L('新的访问密码（数采仪上设置的 PW）', 'new access password (the PW set on the logger)')}
          <input name="pw" type="password" required maxlength="16" autocomplete="off"></label>
        <label>${L('确认：再输入一遍该设备的 MN', 'To confirm, type the device MN again')} <input name="confirm_mn" required maxlength="32" autocomplete="off"></label>
        <button>${L('更换访问密码', 'Change access password')}</button><span class="result" role="status"></span></form>`));
      keys.querySelectorAll('form.rekey').forEach((f) => (f.onsubmit = async (ev) => {
        ev.preventDefault();
        const out = f.querySelector('.result');
        if (f.elements.confirm_mn.value.trim() !== f.dataset.mn) { out.className = 'result bad'; out.textContent = L('输入的 MN 与该设备不一致', 'The MN you typed is not this device\'s'); return; }
        try {
          await send(`/api/sources/points/${f.dataset.id}/rekey`, 'POST', { pw: f.elements.pw.value, confirm_mn: f.elements.confirm_mn.value.trim() });
          out.className = 'result good'; out.textContent = L('已更换；此操作已记入操作留痕', 'Changed; the change is in the audit trail'); f.reset();
        } catch (e) { out.className = 'result bad'; out.textContent = e.message; }
      }));
    }
    const box = document.getElementById('out-charts');
    const shown = d.channels.filter((c) => c.points.length);
    GP.setHTML(box, shown.length
      ? html`${shown.map((c, i) => html`<div class="card"><h2>${c.name || c.code} (${c.unit})${c.converted ? L(' — 折算值', ' — converted') : ''}${c.limit ? html` · ${L('限值', 'limit')} ${c.limit} <span class="note">${c.limit_standard}</span>` : ''}</h2><div class="chart" id="ch-${i}" style="height:240px"></div></div>`)}`
      : html`<p class="note">${L('暂无数据', 'No data')}</p>`);
    shown.forEach((c, i) => {
      const val = (p) => (c.converted && p[2] !== null ? p[2] : p[1]);
      const bad = c.points.filter((p) => /[FMDCTB]/.test(p[3] || ''));
      const marks = [];
      if (c.limit) marks.push({ yAxis: c.limit, name: L('限值', 'limit'), lineStyle: { color: '#c0392b', type: 'solid', width: 2 }, label: { formatter: L('限值 ', 'limit ') + c.limit } });
      if (c.pre_alarm) marks.push({ yAxis: c.pre_alarm, lineStyle: { color: '#e67e22', type: 'dashed' }, label: { formatter: L('预警 ', 'pre-alarm ') + GP.fmt(c.pre_alarm, 2) } });
      GP.chart('ch-' + i, {
        tooltip: { trigger: 'axis', formatter: (ps) => GP.markup(html`${local(ps[0].data[0])}<br>${GP.fmt(ps[0].data[1], 3)} ${c.unit} ${ps[0].data[2] || ''}`) },
        grid: { left: 60, right: 80, top: 20, bottom: 30 },
        xAxis: { type: 'time' }, yAxis: { type: 'value', scale: false, max: c.limit ? (v) => Number(Math.max(v.max, c.limit * 1.1).toPrecision(3)) : null },
        series: [{ type: 'line', showSymbol: false, data: c.points.map((p) => [p[0], val(p), p[3]]), itemStyle: { color: GP.palette[0] },
          markLine: marks.length ? { symbol: 'none', data: marks } : undefined,
          markArea: bad.length ? { itemStyle: { color: 'rgba(241,196,15,0.25)' }, data: bad.map((p) => [{ xAxis: p[0], name: p[3] }, { xAxis: new Date(new Date(p[0]).getTime() + 3600e3).toISOString() }]) } : undefined }],
      });
    });
    GP.setHTML(document.getElementById('out-commands'), html`${d.commands.map((c) => html`<li>${c.cn} QN ${c.qn} · ${c.status} · ${c.requested_by} ${local(c.requested_utc)} ${c.result}</li>`)}`);
    hoursSel.onchange = () => GP.outletPage(id);
    await GP.ready();
  });

  GP.alarmsPage = () => guarded(async () => {
    const st = document.getElementById('al-status'), ru = document.getElementById('al-rule');
    if (!ru.options.length) GP.setHTML(ru, html`<option value="">${L('全部规则', 'all rules')}</option>${Object.keys(RULES).map((k) => html`<option value="${k}">${rule(k)}</option>`)}`);
    const q = new URLSearchParams({ status: st.value }); if (ru.value) q.set('rule', ru.value);
    const rows = await GP.api('/api/alarms?' + q);
    const by = {}; for (const a of rows) by[a.rule] = (by[a.rule] || 0) + 1;
    GP.chart('chart-alarms', {
      tooltip: {}, grid: { left: 170, right: 30, top: 10, bottom: 20 },
      xAxis: { type: 'value', minInterval: 1 }, yAxis: { type: 'category', data: Object.keys(by).map(rule) },
      series: [{ type: 'bar', data: Object.values(by), itemStyle: { color: '#c0392b' } }],
    });
    const tb = document.querySelector('#al-table tbody');
    GP.setHTML(tb, html`${rows.map((a) => html`<tr data-id="${a.id}" class="sev-${a.severity}"><td>#${a.id}</td><td><span class="status ${a.severity}">${a.severity}</span></td><td>${rule(a.rule)}</td><td><a href="/monitoring/outlet/${a.outlet_id}">${a.enterprise}<br><span class="note">${a.outlet}</span></a></td><td>${a.channel || a.code}</td><td>${a.message}</td><td>${local(a.opened_utc)}<br><span class="note">${a.cleared_utc ? L('已恢复 ', 'cleared ') + local(a.cleared_utc) : L('持续中', 'ongoing')}</span></td><td>${a.status}${a.ack_by ? html`<br><span class="note">${a.ack_by}: ${a.ack_note}</span>` : ''}${a.closed_by ? html`<br><span class="note">${a.closed_by}: ${a.close_note}</span>` : ''}</td>
        <td>${a.status === 'open' ? html`<button class="ack">${L('确认', 'Acknowledge')}</button>` : ''} ${a.status !== 'closed' ? html`<button class="close">${L('关闭', 'Close')}</button>` : ''}</td></tr>`)}`);
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
    GP.setHTML(document.getElementById('ent-list'), html`${ents.map((e) => html`<li><a href="?id=${e.id}" class="${String(e.id) === String(selected) ? 'active' : ''}">${e.code} ${e.name}</a> <span class="note">${e.outlets} ${L('个排口', 'outlets')}</span></li>`)}`);
    const id = selected || (ents[0] && ents[0].id);
    if (!id) { await GP.ready(); return; }
    const f = await GP.api('/api/sources/enterprises/' + id);
    const staff = document.body.dataset.staff === '1';
    const box = document.getElementById('ent-file');
    GP.setHTML(box, html`<h2>${f.code} ${f.name}</h2><p class="note">${f.note}</p>${f.outlets.map((o) => html`
      <div class="card outlet"><h3><a href="/monitoring/outlet/${o.id}">${o.code} ${o.name}</a> · ${o.medium === 'water' ? L('废水', 'waste water') : L('废气', 'flue gas')}</h3>
      <p>${L('受纳水体', 'Receiving water')}: ${o.receiving_water || '–'} ${o.river ? `(${o.river} km ${o.river_km})` : ''} · ${o.discharge_rule} · ${o.latitude ?? ''}, ${o.longitude ?? ''} <span class="note">${o.note}</span></p>
      ${o.points.map((p) => html`<p>MN <b>${p.mn}</b> · HJ 212-${p.edition} · ${p.maker} ${p.model}</p>
      <table class="data channels"><thead><tr><th>${L('因子', 'Factor')}</th><th>${L('编码', 'Code')}</th><th>${L('单位', 'Unit')}</th><th class="num">${L('排放限值', 'Limit')}</th><th>${L('标准', 'Standard')}</th><th class="num">${L('预警比例', 'Pre-alarm')}</th><th>${L('折算', 'Converted')}</th><th></th></tr></thead><tbody>
      ${p.channels.map((c) => html`<tr data-id="${c.id}"><td>${c.name}</td><td>${c.code}</td><td>${c.unit}</td><td class="num"><span class="v-limit">${c.limit_value ?? ''}</span></td><td>${c.limit_standard}</td><td class="num">${c.pre_alarm_ratio ?? ''}</td><td>${c.use_zs ? '✓' : ''}</td><td>${staff && !c.is_flow ? html`<button class="edit">${L('修改限值', 'Edit limit')}</button>` : ''}</td></tr>`)}</tbody></table>`)}</div>`)}<div class="card"><h3>${L('排污许可证', 'Permits')}</h3><table class="data"><tbody>${f.permits.map((p) => html`<tr><td>${p.number}</td><td>${p.management}</td><td>${p.issuer}</td><td>${p.valid_from || ''} – ${p.valid_to || ''}</td><td class="note">${p.note}</td></tr>`)}</tbody></table>
      <h3>${L('联系人', 'Contacts')}</h3><table class="data"><tbody>${f.contacts.map((c) => html`<tr><td>${c.name}</td><td>${c.role}</td><td>${c.phone}</td><td>${c.email}</td></tr>`)}</tbody></table></div>`);
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
    GP.setHTML(kindSel, html`${Object.entries(schema).map(([k, v]) => html`<option value="${k}">${v.zh} · ${k}</option>`)}`);
    kindSel.value = 'outlets';
    const fields = document.getElementById('ent-fields');
    const draw = () => {
      const t = schema[kindSel.value];
      const current = document.querySelector('#ent-file h2');
      GP.setHTML(fields, html`${t.columns.map((c) => html`<label>${c}${t.required.includes(c) ? ' *' : ''} <input name="${c}" value="${c === 'enterprise' && current ? current.textContent.replace(/^\S+\s/, '') : ''}"></label>`)}`);
    };
    kindSel.onchange = draw; draw();
    document.getElementById('ent-form').onsubmit = async (ev) => {
      ev.preventDefault();
      const row = {}; fields.querySelectorAll('input').forEach((i) => { if (i.value !== '') row[i.name] = i.value; });
      const box = document.getElementById('ent-form-result');
      const r = await fetch('/api/sources/' + kindSel.value, { method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: JSON.stringify([row]) });
      const d = await r.json();
      const errors = (d.errors || []).map((e) => `${e.column}: ${e.reason}`);
      GP.setHTML(box, d.ok ? html`<p class="good">${L('已保存', 'Saved')}</p>` : html`<p class="bad">${errors.length ? GP.join(errors, html`<br>`) : d.detail}</p>`);
      if (d.ok) GP.enterprisesPage(new URLSearchParams(window.location.search).get('id') || '');
    };
  };

  const SETTINGS = {
    pre_alarm_ratio: ['超标预警比例（占限值）', 'Pre-alarm at this share of the limit', ''],
    missing_hours: ['数据缺失判定', 'Missing data after', ['小时', 'h']],
    offline_minutes: ['设备离线判定', 'Offline after', ['分钟', 'min']],
    abnormal_flag_hours: ['异常标记持续', 'Abnormal flags lasting', ['小时', 'h']],
    flat_line_readings: ['数值恒定判定（连续读数）', 'Flat line after (readings in a row)', ['个', '']],
    collapse_ratio: ['浓度骤降判定（低于前一日均值的比例）', 'Concentration collapse below this share of the day before', ''],
    collapse_flow_tolerance: ['骤降时流量允许波动', 'while the flow stays within ±', ''],
    near_limit_low: ['长期贴线下限（占限值）', 'Held under the limit: from this share of it', ''],
    near_limit_share: ['长期贴线小时占比', '… for this share of the hours', ''],
    near_limit_hours: ['长期贴线观察时长', '… of this many hours', ['小时', 'h']],
    near_limit_max_cv: ['长期贴线最大变异系数', '… with a variation coefficient at most', ''],
    maintenance_hours: ['长时间维护判定', 'Long maintenance: M-flagged hours', ['小时', 'h']],
    maintenance_window_hours: ['长时间维护统计窗口', '… within', ['小时', 'h']],
    auto_close: ['条件消失后自动关闭报警', 'Close alarms by themselves once cleared', ''],
    webhook_url: ['报警推送地址（http/https，公网）', 'Alarm webhook (http/https, public address)', ''],
    webhook_allow_private: ['允许推送到内网地址（仅管理员）', 'Allow webhooks to private addresses (admins only)', ''],
    raw_retention_days: ['原始报文保存期', 'Keep raw frames for', ['天', 'days']],
    wrong_pw_quiet_minutes: ['访问密码错误报警在无错误后关闭', 'Wrong-password alarm clears after quiet', ['分钟', 'min']],
  };
  GP.settingsForm = async () => {
    const spec = await GP.api('/api/settings/monitoring/spec');
    const admin = document.body.dataset.role === 'admin';
    const box = document.getElementById('set-fields');
    const label = (k) => (SETTINGS[k] ? L(SETTINGS[k][0], SETTINGS[k][1]) : k);
    const unit = (k) => (SETTINGS[k] && SETTINGS[k][2] ? L(...SETTINGS[k][2]) : '');
    GP.setHTML(box, spec.filter((s) => admin || s.key !== 'webhook_allow_private').map((s) => (s.kind === 'bool'
      ? html`<label class="check"><span><input type="checkbox" name="${s.key}" ${s.value ? html`checked` : ''}> ${label(s.key)}</span></label>`
      : s.kind === 'number'
        ? html`<label>${label(s.key)} <span><input name="${s.key}" type="number" value="${s.value}" min="${s.min}" max="${s.max}" step="${s.whole ? 1 : 'any'}" required> ${unit(s.key)}</span></label>`
        : html`<label>${label(s.key)} <input name="${s.key}" value="${s.value}" maxlength="2000" type="url" placeholder="https://"></label>`)));
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
      if (!Object.keys(body).length) { GP.setHTML(out, html`<p class="note">${L('没有修改', 'Nothing changed')}</p>`); return; }
      try { await send('/api/settings/monitoring', 'PUT', body); GP.setHTML(out, html`<p class="good">${L('已保存，修改已记入操作留痕', 'Saved; the change is in the audit trail')}</p>`); await GP.settingsForm(); }
      catch (e) { GP.setHTML(out, html`<p class="bad">${e.message}</p>`); }
    };
  };

  // staff: upload a whole enterprise file (xlsx/csv); all-or-nothing, the rejected rows listed
  function importForm() {
    const f = document.getElementById('ent-import');
    if (!f) return;
    f.onsubmit = async (ev) => {
      ev.preventDefault();
      const r = await fetch('/api/sources/import', { method: 'POST', body: new FormData(f), headers: { 'X-CSRF-Token': document.body.dataset.csrf }, credentials: 'same-origin' });
      const d = await r.json();
      GP.setHTML(document.getElementById('ent-import-result'), d.ok
        ? html`<p class="good">${L('导入成功', 'Imported')}: ${Object.entries(d.imported).filter(([, v]) => v).map(([k, v]) => k + ' ' + v).join(', ')}</p>`
        : html`<p class="bad">${L('文件被拒绝，未导入任何数据', 'File rejected; nothing was imported')}</p><table class="data"><tbody>${(d.errors || []).map((e) => html`<tr><td>${e.file}</td><td>${e.sheet}</td><td>${e.row}</td><td>${e.column}</td><td>${e.reason}</td></tr>`)}</tbody></table>`);
    };
  }

  GP.tracingPage = () => guarded(async () => {
    const sel = document.getElementById('tr-section');
    if (!sel.options.length) {
      const secs = await GP.api('/api/tracing/sections');
      GP.setHTML(sel, html`${secs.map((s) => html`<option value="${s.code}">${s.river} · ${s.name} (${s.target_class}${L('类', '')}) ${s.latest_sample ? '· ' + s.latest_sample : ''}</option>`)}`);
      const hg = secs.find((s) => /入湖口/.test(s.name) && s.latest_sample); if (hg) sel.value = hg.code;
    }
    const win = document.getElementById('tr-window');
    const d = await GP.api('/api/tracing?' + new URLSearchParams({ section: sel.value, window_hours: win.value }));
    const c = d.change;
    GP.setHTML(document.getElementById('tr-change'), html`<b>${d.section}</b> (${d.river} km ${d.km}) ${c.date}: ${L('水质类别', 'class')} <b class="${c.worsened ? 'bad' : 'good'}">${c.class}</b>
      ${c.previous_class ? `(${L('前次', 'before')} ${c.previous_date}: ${c.previous_class})` : ''} · ${L('目标', 'target')} ${c.target} ·
      ${c.items_over_target.length ? L('超目标项目：', 'over target: ') + c.items_over_target.map((k) => `${k} ${c.exceedance[k]}${L('倍', '×')}`).join('、') : L('未超目标', 'within target')}
      <br><span class="note">${L('窗口', 'window')} ${local(d.window.start_utc)} – ${local(d.window.end_utc)} · ${d.method}</span>`);
    const r = d.ranking;
    GP.chart('chart-trace', {
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 200, right: 40, top: 30, bottom: 20 },
      yAxis: { type: 'category', inverse: true, data: r.map((x) => `${x.rank}. ${x.enterprise.replace(/有限公司/, '')}`) },
      xAxis: { type: 'value', name: 'kg' },
      series: d.items.map((it, i) => ({ name: it, type: 'bar', data: r.map((x) => x.loads[it].kg), itemStyle: { color: GP.palette[i] } })),
    });
    GP.setHTML(document.querySelector('#tr-table tbody'), html`${r.map((x) => html`<tr><td>${x.rank}</td><td><a href="/monitoring/outlet/${x.outlet_id}">${x.enterprise} · ${x.outlet}</a></td><td class="num">${x.distance_km}</td><td class="num">${GP.fmt(x.water_m3, 0)}</td>${d.items.map((it) => html`<td class="num">${GP.fmt(x.loads[it].kg, 3)}</td><td class="num">${GP.fmt(x.loads[it].mean_mg_l, 2)}</td>`)}<td class="num">${GP.pct(x.share, 1)}</td></tr>`)}`);
    GP.setHTML(document.querySelector('#tr-table thead'), html`<tr><th>#</th><th>${L('排口', 'Outlet')}</th><th class="num">${L('距断面 km', 'km upstream')}</th><th class="num">${L('排水量 m³', 'water m³')}</th>${d.items.map((it) => html`<th class="num">${it} kg</th><th class="num">${it} mg/L</th>`)}<th class="num">${L('占比', 'share')}</th></tr>`);
    sel.onchange = win.onchange = () => GP.tracingPage();
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

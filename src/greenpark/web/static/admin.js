/* greenpark administration: users and roles, API tokens, sessions, logins and the audit trail. */
(function () {
  'use strict';
  const GP = window.GP;
  // Words come from the catalogue: _ translates an English message id, N_ only marks one (translated
  // where it is shown). Ids are written outside template literals: the extractor skips backticks.
  const _ = GP._;
  const N_ = (s) => s;
  const h = GP.html;
  const ROLES = { admin: N_('Administrator'), park_staff: N_('Park staff'), verifier: N_('Verifier'), enterprise: N_('Enterprise user'), public: N_('Public') };
  const STATES = { active: N_('valid'), revoked: N_('revoked'), expired: N_('expired') };
  const ACTIONS = { create_user: N_('user created'), activate: N_('account activated'), deactivate: N_('account deactivated'),
    reset_password: N_('password reset'), set_role: N_('role changed'), create_token: N_('token created'),
    revoke_token: N_('token revoked'), end_session: N_('session ended'), change: N_('changed'), rekey: N_('device re-keyed') };
  const ENTITIES = { app_user: N_('user'), api_token: N_('token'), user_session: N_('session'), setting: N_('alarm setting'),
    channel: N_('monitored factor'), source_point: N_('monitoring device') };
  const word = (table, k) => (table[k] ? _(table[k]) : k);
  const role = (r) => word(ROLES, r);
  const local = (iso) => (iso ? new Date(iso).toLocaleString(GP.zh() ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false }) : '–');
  const FIELDS = { password: N_('password'), pw: N_('device access password'), role: N_('role'), active: N_('active') };
  const enterprises = {};
  const isTime = (x) => typeof x === 'string' && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(x);
  const value = (k, x) => {
    if (k === 'role') return role(x);
    if (k === 'enterprise_id') return enterprises[x] || x;
    if (typeof x === 'boolean') return x ? _('yes') : _('no');
    if (x === '(hidden)') return _('(not shown)');
    if (isTime(x)) return local(x.replace(' ', 'T') + (x.endsWith('Z') ? '' : 'Z'));
    return String(x);
  };
  const show = (v) => {
    if (v === null || v === undefined) return '';
    if (typeof v !== 'object') return value('', v);
    return Object.entries(v).filter(([, x]) => x !== null && x !== '').map(([k, x]) => value(k, x)).join(' · ');
  };

  async function send(url, method, body) {
    const r = await GP.fetch(url, { method, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
    const d = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(typeof d.detail === 'string' ? d.detail : Array.isArray(d.detail) ? d.detail.map((e) => e.msg).join('; ') : String(r.status));
    return d;
  }
  // what cannot be undone asks once more on the button itself
  function confirming(button, question, action) {
    button.onclick = async () => {
      if (button.dataset.armed !== '1') {
        button.dataset.armed = '1'; button.dataset.label = button.textContent; button.textContent = question; button.classList.add('danger');
        setTimeout(() => { if (button.isConnected && button.dataset.armed === '1') { button.dataset.armed = ''; button.textContent = button.dataset.label; button.classList.remove('danger'); } }, 5000);
        return;
      }
      button.disabled = true;
      try { await action(); } catch (e) { button.textContent = e.message; }
    };
  }
  function result(id, ok, content) {
    GP.setHTML(document.getElementById(id), ok ? h`<p class="good">${content}</p>` : h`<p class="bad">${content}</p>`);
  }

  async function users() {
    const [rows, ents] = await Promise.all([GP.api('/api/admin/users'), GP.api('/api/enterprises')]);
    const me = document.body.dataset.user;
    const w = {
      role: _('Role'), enterprise: _('Enterprise'), saveRole: _('Save role'), enabled: _('enabled'), disabled: _('deactivated'),
      deactivate: _('Deactivate'), activate: _('Activate'), reset: _('Reset password'),
    };
    GP.setHTML(document.querySelector('#adm-users tbody'), rows.map((u) => h`<tr data-user="${u.username}">
      <td>${GP.name(u.username)}</td><td>${GP.name(u.display_name)}</td>
      <td><select class="role" aria-label="${w.role}">${Object.keys(ROLES).map((r) => h`<option value="${r}" ${r === u.role ? h`selected` : ''}>${role(r)}</option>`)}</select>
        <select class="ent" aria-label="${w.enterprise}" ${u.role === 'enterprise' ? '' : h`hidden`}>${ents.map((e) => h`<option value="${e.code}" translate="no" ${e.name === u.enterprise ? h`selected` : ''}>${e.name}</option>`)}</select>
        <button class="save-role" hidden>${w.saveRole}</button></td>
      <td>${u.enterprise ? GP.name(u.enterprise) : '–'}</td>
      <td class="${u.active ? 'good' : 'bad'}">${u.active ? w.enabled : w.disabled}</td><td>${local(u.last_login_utc)}</td>
      <td>${u.username === me ? '' : h`<button class="toggle">${u.active ? w.deactivate : w.activate}</button> `}<button class="reset">${w.reset}</button></td></tr>`));
    GP.table(document.getElementById('adm-users'));
    document.querySelectorAll('#adm-users tbody tr').forEach((tr) => {
      const name = tr.dataset.user; const u = rows.find((x) => x.username === name);
      const roleSel = tr.querySelector('select.role'), entSel = tr.querySelector('select.ent'), save = tr.querySelector('button.save-role');
      const changed = () => { entSel.hidden = roleSel.value !== 'enterprise'; save.hidden = roleSel.value === u.role && (roleSel.value !== 'enterprise' || entSel.selectedOptions[0]?.textContent === u.enterprise); };
      roleSel.onchange = entSel.onchange = changed;
      confirming(save, _('Change the role?'), async () => {
        await send(`/api/admin/users/${encodeURIComponent(name)}/role`, 'PUT', { role: roleSel.value, enterprise: roleSel.value === 'enterprise' ? entSel.value : '' });
        result('adm-user-result', true, _('Role of {name} changed; their sessions ended', { name })); await load();
      });
      const toggle = tr.querySelector('button.toggle');
      if (toggle) confirming(toggle, u.active ? _('Deactivate?') : _('Activate?'), async () => {
        await send(`/api/admin/users/${encodeURIComponent(name)}/active`, 'POST', { active: !u.active });
        result('adm-user-result', true, u.active ? _('{name} deactivated: sessions ended, tokens refused', { name }) : _('{name} activated', { name }));
        await load();
      });
      confirming(tr.querySelector('button.reset'), _('Reset the password?'), async () => {
        const d = await send(`/api/admin/users/${encodeURIComponent(name)}/password`, 'POST');
        const said = _('New password of {name} (shown once):', { name });
        GP.setHTML(document.getElementById('adm-user-result'), h`<p class="good">${said} <code class="secret">${d.password}</code></p>`);
        await load();
      });
    });
    ents.forEach((e) => { enterprises[e.id] = e.name; });
    const chooseRole = _('— choose a role —');
    GP.setHTML(document.getElementById('adm-role'), [h`<option value="" selected disabled>${chooseRole}</option>`, Object.keys(ROLES).map((r) => h`<option value="${r}">${role(r)}</option>`)]);
    GP.setHTML(document.getElementById('adm-enterprise'), [h`<option value="">–</option>`, ents.map((e) => h`<option value="${e.code}" translate="no">${e.code} ${e.name}</option>`)]);
    GP.setHTML(document.getElementById('adm-token-user'), rows.filter((u) => u.active).map((u) => h`<option value="${u.username}" translate="no">${u.username} · ${role(u.role)}</option>`));
  }

  async function tokens() {
    const rows = await GP.api('/api/admin/tokens');
    const w = { revoke: _('Revoke'), none: _('No tokens') };
    GP.setHTML(document.querySelector('#adm-tokens tbody'), rows.length ? rows.map((t) => h`<tr data-id="${t.id}" class="${t.state === 'active' ? '' : 'muted'}"><td>${t.id}</td><td>${GP.name(t.username)}</td><td>${GP.name(t.name)}</td>
      <td>${word(STATES, t.state)}</td><td>${local(t.created_utc)}</td><td>${local(t.expires_utc)}</td><td>${local(t.last_used_utc)}</td>
      <td>${t.state === 'active' ? h`<button class="revoke">${w.revoke}</button>` : t.revoked_by ? h`<span class="note" translate="no">${t.revoked_by}</span>` : ''}</td></tr>`)
      : h`<tr class="empty"><td colspan="8" class="note">${w.none}</td></tr>`);
    GP.table(document.getElementById('adm-tokens'));
    document.querySelectorAll('#adm-tokens button.revoke').forEach((b) => confirming(b, _('Revoke it?'), async () => {
      await send(`/api/admin/tokens/${b.closest('tr').dataset.id}`, 'DELETE'); await tokens();
    }));
  }

  async function sessions() {
    const rows = await GP.api('/api/admin/sessions');
    const w = { end: _('End'), ok: _('succeeded'), failed: _('failed') };
    GP.setHTML(document.querySelector('#adm-sessions tbody'), rows.map((s) => h`<tr data-id="${s.id}"><td>${GP.name(s.username)}</td><td>${GP.name(s.address)}</td><td>${local(s.created_utc)}</td><td>${local(s.last_seen_utc)}</td>
      <td><button class="end">${w.end}</button></td></tr>`));
    GP.table(document.getElementById('adm-sessions'));
    document.querySelectorAll('#adm-sessions button.end').forEach((b) => confirming(b, _('End the session?'), async () => {
      await send(`/api/admin/sessions/${b.closest('tr').dataset.id}`, 'DELETE'); await sessions();
    }));
    const logins = await GP.api('/api/admin/logins?limit=50');
    GP.setHTML(document.querySelector('#adm-logins tbody'), logins.map((x) => h`<tr><td>${local(x.at_utc)}</td><td>${GP.name(x.username)}</td><td>${GP.name(x.address)}</td><td class="${x.ok ? 'good' : 'bad'}">${x.ok ? w.ok : w.failed}</td></tr>`));
    GP.table(document.getElementById('adm-logins'));
    const audit = await GP.api('/api/admin/audit?limit=200');
    GP.setHTML(document.querySelector('#adm-audit tbody'), audit.map((e) => h`<tr><td>${local(e.at_utc)}</td><td>${GP.name(e.actor)}</td><td>${word(ACTIONS, e.action)}</td>
      <td>${word(ENTITIES, e.entity)} <span translate="no">${e.key}</span></td><td>${word(FIELDS, e.field)}</td><td translate="no">${show(e.old)}</td><td translate="no">${show(e.new)}</td></tr>`));
    GP.table(document.getElementById('adm-audit'));
  }

  async function load() { await Promise.all([users(), tokens(), sessions()]); }

  GP.pages.admin = async () => {
    try {
      await load();
      document.getElementById('adm-user-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const fd = new FormData(ev.target);
        try {
          const d = await send('/api/admin/users', 'POST', Object.fromEntries(fd.entries()));
          const said = d.password ? _('{name} created. First password (shown once):', { name: d.username }) : _('{name} created', { name: d.username });
          GP.setHTML(document.getElementById('adm-user-result'), d.password
            ? h`<p class="good">${said} <code class="secret">${d.password}</code></p>`
            : h`<p class="good">${said}</p>`);
          ev.target.reset(); await load();
        } catch (e) { result('adm-user-result', false, e.message); }
      };
      document.getElementById('adm-token-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const fd = new FormData(ev.target);
        try {
          const d = await send('/api/admin/tokens', 'POST', { username: fd.get('username'), name: fd.get('name'), days: Number(fd.get('days')) });
          const said = _('Token for {name} (shown once; keep it now):', { name: d.username });
          GP.setHTML(document.getElementById('adm-token-result'), h`<p class="good">${said} <code class="secret">${d.token}</code></p>`);
          ev.target.reset(); await Promise.all([tokens(), sessions()]); // the audit trail shows it too
        } catch (e) { result('adm-token-result', false, e.message); }
      };
    } catch (e) {
      const box = document.getElementById('page-error'); box.hidden = false; box.textContent = e.message;
    }
    document.body.dataset.ready = '1';
  };
})();

/* greenpark tables that grow: search, sort, paging and export to Excel, for any
   <table class="data" data-table="search sort page export" data-export-name="…">.
   A page that fills a table itself calls GP.table(el) after filling it; server-rendered tables are
   enhanced when the page loads. Words come from the catalogue (GP._). */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = (s, p) => GP._(s, p);
  const PAGE = 25;

  const cellValue = (td) => (td.dataset.sort !== undefined ? td.dataset.sort : td.textContent.trim());
  const asNumber = (s) => {
    const t = String(s).replace(/[,\s，]/g, '').replace(/[%‰]$/, '');
    return t !== '' && !Number.isNaN(Number(t)) ? Number(t) : null;
  };
  function compare(a, b) {
    const x = asNumber(a), y = asNumber(b);
    if (x !== null && y !== null) return x - y;
    if (x !== null) return -1;
    if (y !== null) return 1;
    return String(a).localeCompare(String(b), GP.zh() ? 'zh-CN' : 'en');
  }

  GP.table = function (table) {
    if (!table || !table.tBodies.length) return;
    const features = (table.dataset.table || 'search sort page export').split(/\s+/);
    const st = table.gpTable || (table.gpTable = { sortCol: null, asc: true, page: 0, query: '' });
    const rows = [...table.tBodies[0].rows].filter((r) => !r.classList.contains('empty'));
    st.rows = rows;
    if (!st.bar) {
      const bar = document.createElement('div');
      bar.className = 'table-bar';
      if (features.includes('search')) {
        const input = document.createElement('input');
        input.type = 'search'; input.placeholder = _('Search'); input.setAttribute('aria-label', _('Search in the table'));
        input.oninput = () => { st.query = input.value.trim().toLowerCase(); st.page = 0; draw(); };
        bar.appendChild(input);
      }
      const count = document.createElement('span'); count.className = 'note count'; bar.appendChild(count); st.count = count;
      if (features.includes('export')) {
        const b = document.createElement('button'); b.type = 'button'; b.className = 'secondary export'; b.textContent = _('Export to Excel');
        b.onclick = () => exportTable(table, b);
        bar.appendChild(b);
      }
      table.parentNode.insertBefore(bar, table);
      st.bar = bar;
      if (features.includes('page')) {
        const pager = document.createElement('div'); pager.className = 'pager';
        table.parentNode.insertBefore(pager, table.nextSibling);
        st.pager = pager;
      }
      if (features.includes('sort') && table.tHead) {
        [...table.tHead.rows[0].cells].forEach((th, i) => {
          if (th.dataset.nosort !== undefined || !th.textContent.trim()) return;
          th.classList.add('sortable'); th.tabIndex = 0; th.setAttribute('aria-sort', 'none');
          const sort = () => { st.asc = st.sortCol === i ? !st.asc : true; st.sortCol = i; draw(); };
          th.onclick = sort;
          th.onkeydown = (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } };
        });
      }
    }
    function draw() {
      if (!st.rows.length) { st.count.textContent = ''; if (st.pager) st.pager.replaceChildren(); return; } // keep the "nothing here" row
      let list = st.rows;
      if (st.query) list = list.filter((r) => r.textContent.toLowerCase().includes(st.query));
      if (st.sortCol !== null) {
        list = [...list].sort((a, b) => compare(cellValue(a.cells[st.sortCol] || a), cellValue(b.cells[st.sortCol] || b)) * (st.asc ? 1 : -1));
        [...table.tHead.rows[0].cells].forEach((th, i) => th.setAttribute('aria-sort', i === st.sortCol ? (st.asc ? 'ascending' : 'descending') : 'none'));
      }
      const paged = features.includes('page') && list.length > PAGE;
      const pages = Math.max(1, Math.ceil(list.length / PAGE));
      st.page = Math.min(st.page, pages - 1);
      const shown = paged ? list.slice(st.page * PAGE, (st.page + 1) * PAGE) : list;
      const body = table.tBodies[0];
      body.replaceChildren(...shown);
      st.count.textContent = st.query ? _('{n} of {total} rows', { n: list.length, total: st.rows.length }) : st.rows.length === 1 ? _('1 row') : _('{total} rows', { total: st.rows.length });
      if (st.pager) {
        st.pager.replaceChildren();
        if (paged) {
          const btn = (label, page, disabled) => {
            const b = document.createElement('button'); b.type = 'button'; b.className = 'secondary'; b.textContent = label; b.disabled = disabled;
            b.onclick = () => { st.page = page; draw(); };
            return b;
          };
          const info = document.createElement('span'); info.className = 'note';
          info.textContent = _('page {page} of {pages}', { page: st.page + 1, pages });
          st.pager.append(btn(_('Previous'), st.page - 1, st.page === 0), info, btn(_('Next'), st.page + 1, st.page >= pages - 1));
        }
      }
    }
    draw();
  };

  async function exportTable(table, button) {
    const st = table.gpTable;
    const head = table.tHead ? [...table.tHead.rows[0].cells] : [];
    const keep = head.map((th) => th.dataset.noexport === undefined && th.textContent.trim() !== '');
    const columns = head.map((th) => th.textContent.trim()).filter((_c, i) => keep[i]);
    const rows = st.rows.map((r) => [...r.cells].filter((_c, i) => keep[i]).map((td) => {
      const v = td.dataset.export !== undefined ? td.dataset.export : td.textContent.trim();
      const n = td.classList.contains('num') ? asNumber(v) : null;
      return n !== null ? n : v;
    }));
    const title = table.dataset.exportName || document.title;
    button.disabled = true;
    try {
      const r = await GP.fetch('/api/tables/export.xlsx', { method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: JSON.stringify({ title, columns, rows }) });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || String(r.status));
      const url = URL.createObjectURL(await r.blob());
      const a = document.createElement('a'); a.href = url; a.download = `${title}.xlsx`;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      button.textContent = _('Export failed: {reason}', { reason: e.message });
    } finally { button.disabled = false; }
  }

  document.addEventListener('DOMContentLoaded', () => document.querySelectorAll('table[data-table]').forEach((t) => { if (t.tBodies.length && t.tBodies[0].rows.length) GP.table(t); }));
})();

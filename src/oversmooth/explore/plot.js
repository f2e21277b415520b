/* A small SVG line chart (no library): linear or log10 y axis, integer x ticks, lines, points,
   horizontal reference lines, vertical markers and shaded bands. Returns markup for innerHTML. */
(function (OS) {
  'use strict';

  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }
  function fmt(v) {
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) {
      var e = Math.floor(Math.log10(a)), m = v / Math.pow(10, e);
      return (Math.abs(m - 1) < 1e-9 ? '' : (+m.toFixed(1)) + '\u00d7') + '10' + sup(e);
    }
    return String(+v.toPrecision(3));
  }
  function sup(e) {
    var map = {'-': '\u207b', '0': '\u2070', '1': '\u00b9', '2': '\u00b2', '3': '\u00b3', '4': '\u2074',
      '5': '\u2075', '6': '\u2076', '7': '\u2077', '8': '\u2078', '9': '\u2079'};
    return String(e).split('').map(function (ch) { return map[ch] || ch; }).join('');
  }
  function niceStep(span, target) {
    var raw = span / target, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  }
  function linTicks(lo, hi, target, integer) {
    var step = niceStep(hi - lo || 1, target);
    if (integer) step = Math.max(1, Math.round(step));
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(+t.toPrecision(12));
    return out;
  }

  /* spec: {width, height, xmin, xmax, ylog, ymin, ymax (data units; log: the values themselves),
     xlabel, ylabel, xlog, series: [{kind: 'line'|'points'|'hline'|'band'|'step', pts: [[x, y]], y, y2,
     color, dash, width, label}], markers: [{x, label, color}], notes: [text]} */
  function chart(spec) {
    var W = spec.width || 520, H = spec.height || 300, m = {l: 62, r: 14, t: 12, b: 44};
    if (spec.prelog) m.l = Math.max(62, 34 + 6.5 * String(Math.floor(spec.ymin)).length);  // room for 10^-NNNNN
    var pw = W - m.l - m.r, ph = H - m.t - m.b;
    var ylog = !!spec.ylog, xlog = !!spec.xlog;
    var prelog = !!spec.prelog;
    var ty = function (v) { return ylog && !prelog ? Math.log10(v) : v; }, tx = function (v) { return xlog ? Math.log10(v) : v; };
    var y0 = ty(spec.ymin), y1 = ty(spec.ymax), x0 = tx(spec.xmin), x1 = tx(spec.xmax);
    if (!(y1 > y0)) { y1 = y0 + 1; }
    var X = function (v) { return m.l + (tx(v) - x0) / (x1 - x0) * pw; };
    var Y = function (v) { return m.t + (1 - (ty(v) - y0) / (y1 - y0)) * ph; };
    var ok = function (x, y) { return x !== null && y !== null && isFinite(x) && isFinite(y) && (!ylog || prelog || y > 0); };
    var s = ['<svg class="chart" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H +
      '" role="img" aria-label="' + esc(spec.title || '') + '">'];
    s.push('<defs><clipPath id="clip' + spec.id + '"><rect x="' + m.l + '" y="' + m.t + '" width="' + pw +
      '" height="' + ph + '"/></clipPath></defs>');
    s.push('<rect x="' + m.l + '" y="' + m.t + '" width="' + pw + '" height="' + ph + '" class="plotbg"/>');
    // y ticks
    var yt = [];
    if (prelog) {
      var every2 = niceStep(Math.max(1, y1 - y0), 5); every2 = Math.max(1, Math.round(every2));
      for (var e2 = Math.ceil(y0 / every2) * every2; e2 <= y1; e2 += every2) yt.push(e2);
    } else if (ylog) {
      var span = y1 - y0, every = span > 24 ? Math.ceil(span / 8) : span > 12 ? 2 : 1;
      for (var e = Math.ceil(y0); e <= Math.floor(y1); e++) if (e % every === 0) yt.push(Math.pow(10, e));
      if (yt.length < 2) linTicks(Math.pow(10, y0), Math.pow(10, y1), 4, false).forEach(function (t) { if (t > 0) yt.push(t); });
    } else {
      yt = linTicks(y0, y1, 5, false);
    }
    yt.forEach(function (t) {
      var yy = Y(t);
      if (yy < m.t - 0.5 || yy > m.t + ph + 0.5) return;
      s.push('<line class="grid" x1="' + m.l + '" x2="' + (m.l + pw) + '" y1="' + yy + '" y2="' + yy + '"/>');
      s.push('<text class="tick" x="' + (m.l - 6) + '" y="' + (yy + 4) + '" text-anchor="end">' +
        esc(prelog ? (t === 0 ? '1' : '10' + sup(t)) : fmt(t)) + '</text>');
    });
    // x ticks
    var xt = [];
    if (xlog) {
      for (var k = Math.ceil(x0); k <= Math.floor(x1); k++) xt.push(Math.pow(10, k));
    } else {
      xt = linTicks(x0, x1, 8, !!spec.xinteger);
    }
    xt.forEach(function (t) {
      var xx = X(t);
      s.push('<line class="grid" y1="' + m.t + '" y2="' + (m.t + ph) + '" x1="' + xx + '" x2="' + xx + '"/>');
      s.push('<text class="tick" x="' + xx + '" y="' + (m.t + ph + 16) + '" text-anchor="middle">' + esc(fmt(t)) + '</text>');
    });
    s.push('<g clip-path="url(#clip' + spec.id + ')">');
    (spec.series || []).forEach(function (se) {
      var col = se.color || '#333', dash = se.dash ? ' stroke-dasharray="' + se.dash + '"' : '';
      var w = se.width || 2;
      if (se.kind === 'hline') {
        if (!ok(spec.xmin, se.y)) return;
        s.push('<line x1="' + m.l + '" x2="' + (m.l + pw) + '" y1="' + Y(se.y) + '" y2="' + Y(se.y) + '" stroke="' +
          col + '" stroke-width="' + w + '"' + dash + '/>');
      } else if (se.kind === 'band') {
        if (!ok(spec.xmin, se.y) || !ok(spec.xmin, se.y2)) return;
        s.push('<rect x="' + m.l + '" width="' + pw + '" y="' + Y(se.y2) + '" height="' + Math.max(0, Y(se.y) - Y(se.y2)) +
          '" fill="' + col + '" opacity="' + (se.opacity || 0.12) + '"/>');
      } else if (se.kind === 'points') {
        se.pts.forEach(function (pt) {
          if (!ok(pt[0], pt[1]) || pt[0] < spec.xmin || pt[0] > spec.xmax) return;
          s.push('<circle cx="' + X(pt[0]) + '" cy="' + Y(pt[1]) + '" r="' + (se.r || 4.2) + '" fill="' + col +
            '" stroke="#fff" stroke-width="1.3"><title>' + esc(String(se.label).replace(/<[^>]+>/g, '') + ': depth ' + pt[0] + ', ' + (spec.prelog ? '10' + sup(pt[1].toFixed(1)) : fmt(pt[1]))) +
            '</title></circle>');
        });
      } else {
        var d = '', pen = false;
        se.pts.forEach(function (pt, i) {
          if (!ok(pt[0], pt[1])) { pen = false; return; }
          if (se.kind === 'step' && pen) d += 'H' + X(pt[0]).toFixed(2) + 'V' + Y(pt[1]).toFixed(2);
          else d += (pen ? 'L' : 'M') + X(pt[0]).toFixed(2) + ',' + Y(pt[1]).toFixed(2);
          pen = true;
        });
        if (d) s.push('<path d="' + d + '" fill="none" stroke="' + col + '" stroke-width="' + w + '"' + dash +
          ' stroke-linejoin="round" stroke-linecap="round"/>');
      }
    });
    (spec.markers || []).forEach(function (mk) {
      var xx = X(mk.x);
      if (!(xx >= m.l - 0.5 && xx <= m.l + pw + 0.5)) return;
      s.push('<line x1="' + xx + '" x2="' + xx + '" y1="' + m.t + '" y2="' + (m.t + ph) + '" stroke="' + (mk.color || '#555') +
        '" stroke-width="1.5" stroke-dasharray="2 3"/>');
      if (mk.label) s.push('<text class="marker" x="' + (xx + 4) + '" y="' + (m.t + 14) + '" fill="' + (mk.color || '#555') +
        '"' + (xx > m.l + pw - 110 ? ' text-anchor="end" dx="-8"' : '') + '>' + esc(mk.label) + '</text>');
    });
    s.push('</g>');
    s.push('<rect x="' + m.l + '" y="' + m.t + '" width="' + pw + '" height="' + ph + '" class="frame"/>');
    s.push('<text class="axlabel" x="' + (m.l + pw / 2) + '" y="' + (H - 8) + '" text-anchor="middle">' + esc(spec.xlabel) + '</text>');
    s.push('<text class="axlabel" transform="translate(15,' + (m.t + ph / 2) + ') rotate(-90)" text-anchor="middle">' +
      esc(spec.ylabel) + '</text>');
    s.push('</svg>');
    return s.join('');
  }

  function swatch(se) {
    var col = se.color || '#333';
    if (se.kind === 'points') return '<svg width="26" height="12"><circle cx="13" cy="6" r="4.2" fill="' + col + '" stroke="#fff"/></svg>';
    if (se.kind === 'band') return '<svg width="26" height="12"><rect x="1" y="1" width="24" height="10" fill="' + col + '" opacity="0.25"/></svg>';
    return '<svg width="26" height="12"><line x1="1" x2="25" y1="6" y2="6" stroke="' + col + '" stroke-width="' +
      (se.width || 2) + '"' + (se.dash ? ' stroke-dasharray="' + se.dash + '"' : '') + '/></svg>';
  }
  function legend(series) {
    return '<ul class="legend">' + series.filter(function (se) { return se.label; }).map(function (se) {
      return '<li>' + swatch(se) + '<span>' + se.label + '</span></li>';
    }).join('') + '</ul>';
  }

  OS.plot = {chart: chart, legend: legend, fmt: fmt, esc: esc};
})(window.OversmoothExplorer);

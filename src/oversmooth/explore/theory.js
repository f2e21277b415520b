/* The explorer's theory: a line-by-line port of oversmooth.theory.theory_columns (simulate's theory_*
   columns) and of the scalars oversmooth.explore.theory_curves adds. tests/test_explore.py compares it with Python. */
(function (OS) {
  'use strict';

  // ---- Phi: Cephes' ndtr (as scipy.special.ndtr), 1e-15 relative ----
  var P = [2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
    4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
    9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2];
  var Q = [1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
    9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
    1.65666309194161350182e3, 5.57535340817727675546e2];
  var R = [5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
    6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0];
  var S = [2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
    1.70814450747565897222e1, 9.60896809063285307214e0, 3.36907645100081516050e0];
  var T = [9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
    7.00332514112805075473e3, 5.55923013010394962768e4];
  var U = [3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
    2.26290000613890934246e4, 4.92673942608635921086e4];
  var MAXLOG = 7.09782712893383996843e2, SQRTH = 7.07106781186547524401e-1;

  function polevl(x, c) { var y = c[0]; for (var i = 1; i < c.length; i++) y = y * x + c[i]; return y; }
  function p1evl(x, c) { var y = x + c[0]; for (var i = 1; i < c.length; i++) y = y * x + c[i]; return y; }
  function erf(x) {
    if (Math.abs(x) > 1.0) return 1.0 - erfc(x);
    var z = x * x;
    return x * polevl(z, T) / p1evl(z, U);
  }
  function erfc(a) {
    var x = Math.abs(a);
    if (x < 1.0) return 1.0 - erf(a);
    var z = -a * a;
    if (z < -MAXLOG) return a < 0 ? 2.0 : 0.0;
    z = Math.exp(z);
    var p, q;
    if (x < 8.0) { p = polevl(x, P); q = p1evl(x, Q); } else { p = polevl(x, R); q = p1evl(x, S); }
    var y = (z * p) / q;
    if (a < 0) y = 2.0 - y;
    if (y === 0.0) return a < 0 ? 2.0 : 0.0;
    return y;
  }
  // UNDER: the largest x where scipy's ndtr is exactly 0 (written in at build time), so that ties at
  // 0 (and so theory.optimal_depth's choice among them) are Python's.
  function ndtr(a) {
    if (a !== a) return NaN;
    if (a <= OS.data.underflow) return 0.0;
    var x = a * SQRTH, z = Math.abs(x), y;
    if (z < SQRTH) {
      y = 0.5 + 0.5 * erf(x);
    } else {
      y = 0.5 * erfc(z);
      if (x > 0) y = 1.0 - y;
    }
    return y;
  }
  // log10 Phi(x) for display far below double precision (asymptotic series for x < -20)
  function log10Phi(x) {
    if (x !== x) return NaN;
    if (x > -20) return Math.log10(ndtr(x));
    var x2 = x * x, s = 1 - 1 / x2 + 3 / (x2 * x2) - 15 / (x2 * x2 * x2) + 105 / (x2 * x2 * x2 * x2);
    return (-x2 / 2 - Math.log(-x) - 0.5 * Math.log(2 * Math.PI) + Math.log(s)) / Math.LN10;
  }

  // ---- oversmooth.theory ----
  function lam(p, q) { return (p - q) / (p + q); }
  function csbmPQ(n, degree, l) { var s = 2.0 * degree / n; return [s * (1 + l) / 2.0, s * (1 - l) / 2.0]; }
  function expectedDegree(n, p, q, sl) { return (sl ? 1.0 : 0.0) + (n / 2.0) * (p + q); }
  function nu(l, c, sl) {
    var s = sl ? 1.0 : 0.0;
    if (l === 0 || c * l * l <= 1.0) return NaN;
    var v = ((c - 1.0) * l + 1.0 / l + s) / (c + s);
    return Math.sign(v) * Math.min(Math.abs(v), 1.0);
  }
  function lambdaEff(l, d, sl) {
    var s = sl ? 1.0 : 0.0, c = d - s;
    if (!(c > 0)) return NaN;
    return nu(l, c, sl);
  }
  function expectedStationarySqSum(n, p, q, sl) {
    var d = expectedDegree(n, p, q, sl), v = (n / 2.0) * (p * (1 - p) + q * (1 - q));
    return (1.0 + v / Math.pow(d, 2)) / n;
  }
  function gap(depths, l, gap0) { return depths.map(function (k) { return Math.pow(l, k) * gap0; }); }
  function pprFixedPoint(l, alpha, gap0) {
    var r = (1.0 - alpha) * l;
    if (r === 1.0) return gap0;
    return alpha * gap0 / (1.0 - r);
  }
  function pprGap(depths, l, alpha, gap0) {
    var g = pprFixedPoint(l, alpha, gap0);
    return depths.map(function (k) { return g + Math.pow((1.0 - alpha) * l, k) * (gap0 - g); });
  }
  var CAT = [1n];
  function catalanBig(n) {  // exact (BigInt), as Python's comb(2n, n) // (n + 1)
    while (CAT.length <= n) { var m = BigInt(CAT.length - 1); CAT.push(CAT[CAT.length - 1] * 2n * (2n * m + 1n) / (m + 2n)); }
    return CAT[n];
  }
  var LANCZOS_G = 6.024680040776729583740234375;
  var NUM = [23531376880.410759688572007674451636754734846804940, 42919803642.649098768957899047001988850926355848959,
    35711959237.355668049440185451547166705960488635843, 17921034426.037209699919755754458931112671403265390,
    6039542586.3520280050642916443072979210699388420708, 1439720407.3117216736632230727949123939715485786772,
    248874557.86205415651146038641322942321632125127801, 31426415.585400194380614231628318205362874684987640,
    2876370.6289353724412254090516208496135991145378768, 186056.26539522349504029498971604569928220784236328,
    8071.6720023658162106380029022722506138218516325024, 210.82427775157934587250973392071336271166969580291,
    2.5066282746310002701649081771338373386264310793408];
  var DEN = [0.0, 39916800.0, 120543840.0, 150917976.0, 105258076.0, 45995730.0, 13339535.0, 2637558.0, 357423.0,
    32670.0, 1925.0, 66.0, 1.0];
  function lanczosSum(x) {
    var num = 0.0, den = 0.0, i;
    if (x < 5.0) { for (i = 12; i >= 0; i--) { num = num * x + NUM[i]; den = den * x + DEN[i]; } }
    else { for (i = 0; i < 13; i++) { num = num / x + NUM[i]; den = den / x + DEN[i]; } }
    return num / den;
  }
  function lgamma(x) {  // CPython's math.lgamma for x > 0
    if (x === Math.floor(x) && x <= 2.0) return 0.0;
    var r = Math.log(lanczosSum(x)) - LANCZOS_G;
    return r + (x - 0.5) * (Math.log(x + LANCZOS_G - 0.5) - 1);
  }
  var CAT_NUM = [];
  function catalan(n) { if (CAT_NUM[n] === undefined) CAT_NUM[n] = Number(catalanBig(n)); return CAT_NUM[n]; }
  var CATALAN_FLOAT_MAX = 500;  // as theory._variance: exact while C_k is a float, in logs beyond
  function catalanOverPower(k, d) {
    if (k <= CATALAN_FLOAT_MAX && (d <= 1.0 || k * Math.log(d) < 700.0)) return catalan(k) / Math.pow(d, k);
    var logC = lgamma(2 * k + 1) - 2.0 * lgamma(k + 1) - Math.log(k + 1);
    return Math.exp(logC - k * Math.log(d));
  }
  function catalanVariance(depths, d, pi2, sigma) {
    return depths.map(function (k) { return Math.pow(sigma, 2) * (pi2 + catalanOverPower(k, d)); });
  }
  function walkOverlap(t, d, sl) {
    var m = Math.floor(t / 2), odd = t % 2;
    if (!odd) return catalanOverPower(m, d);
    return sl ? (2 * m + 1) * catalanOverPower(m, d) / d : 0.0;
  }
  function pprCatalanVariance(depths, d, pi2, alpha, sigma, sl) {
    var top = depths.length ? Math.max.apply(null, depths) : 0, overlap = [], t;
    for (t = 0; t <= 2 * top; t++) overlap.push(walkOverlap(t, d, sl));
    return depths.map(function (n) {
      var c = [], k, sum = 0.0, conv = 0.0;
      for (k = 0; k < n; k++) c.push(alpha * Math.pow(1 - alpha, k));
      c.push(Math.pow(1 - alpha, n));
      for (k = 0; k <= n; k++) sum += c[k];
      // pi^2 (sum c)^2 + sum_t R_t (c * c)_t: R depends on k + l only
      for (t = 0; t <= 2 * n; t++) {
        var ct = 0.0;
        for (k = Math.max(0, t - n); k <= Math.min(t, n); k++) ct += c[k] * c[t - k];
        conv += ct * overlap[t];
      }
      return Math.pow(sigma, 2) * (pi2 * Math.pow(sum, 2) + conv);
    });
  }
  function predictedBayesError(gaps, vars) {
    return gaps.map(function (g, i) { return ndtr(-Math.abs(g) / (2.0 * Math.sqrt(vars[i]))); });
  }
  function optimalDepth(errors) {  // first index of the smallest non-NaN value (numpy's nanargmin)
    var best = null;
    errors.forEach(function (e, i) { if (e === e && (best === null || e < errors[best])) best = i; });
    return best;
  }
  function clean(a) { return a.map(function (v) { return isFinite(v) ? v : null; }); }
  function num(v) { return isFinite(v) ? v : null; }

  // ---- theory_curves (oversmooth.explore._curves) ----
  function curves(o) {
    var depths = [], k;
    for (k = 0; k <= o.depth; k++) depths.push(k);
    var sl = !!o.self_loops, s = sl ? 1.0 : 0.0, sigma = o.sigma, gap0 = o.gap0 === undefined ? 2.0 : o.gap0;
    var corrected = o.operator === 'corrected', appnp = o.operator === 'appnp';
    var l = lam(o.p, o.q), d = expectedDegree(o.n, o.p, o.q, sl), le = lambdaEff(l, d, sl);
    var pi2 = expectedStationarySqSum(o.n, o.p, o.q, sl);
    var out = {operator: o.operator, n: o.n, p: o.p, q: o.q, sigma: sigma, alpha: o.alpha, self_loops: sl,
      depth: o.depth, gap0: gap0, lam: l, c: d - s, d: d, nu: num(le), pi_sq_sum: pi2,
      variance_lower: corrected ? null : Math.pow(sigma, 2) / o.n, variance_upper: corrected ? null : Math.pow(sigma, 2),
      ppr_floor: appnp ? Math.pow(o.alpha, 2) * Math.pow(sigma, 2) : null,
      g_star: appnp ? pprFixedPoint(l, o.alpha, gap0) : null};
    var g, gfd, v;
    if (appnp) {
      g = pprGap(depths, l, o.alpha, gap0);
      gfd = isFinite(le) ? pprGap(depths, le, o.alpha, gap0) : depths.map(function () { return NaN; });
      v = pprCatalanVariance(depths, d, pi2, o.alpha, sigma, sl);
    } else {
      g = gap(depths, l, gap0);
      gfd = gap(depths, le, gap0);
      v = catalanVariance(depths, d, pi2, sigma);
    }
    out.gap = clean(g); out.gap_nu = clean(gfd);
    if (corrected) { out.variance = null; out.bayes = null; out.bayes_paper = null; out.best_depth = null; return out; }
    var gBest = isFinite(le) ? gfd : g, bayes = predictedBayesError(gBest, v);
    out.variance = clean(v); out.bayes = clean(bayes); out.bayes_paper = clean(predictedBayesError(g, v));
    out.best_depth = optimalDepth(bayes);
    // display-only extras (not in the Python dict): log10 of both errors without underflow
    out.log10_bayes = gBest.map(function (x, i) { return log10Phi(-Math.abs(x) / (2 * Math.sqrt(v[i]))); });
    out.log10_bayes_paper = g.map(function (x, i) { return log10Phi(-Math.abs(x) / (2 * Math.sqrt(v[i]))); });
    out.underflow = bayes.some(function (e) { return e === 0; });
    return out;
  }

  OS.theory = {ndtr: ndtr, log10Phi: log10Phi, lam: lam, csbmPQ: csbmPQ, expectedDegree: expectedDegree, nu: nu,
    lambdaEff: lambdaEff, expectedStationarySqSum: expectedStationarySqSum, catalan: catalan,
    catalanVariance: catalanVariance, pprCatalanVariance: pprCatalanVariance, pprGap: pprGap, pprFixedPoint: pprFixedPoint,
    optimalDepth: optimalDepth, curves: curves};
})(window.OversmoothExplorer);

# lme4 reference fits of generalized linear mixed models (issue 12: glmer, Laplace, nAGQ = 1). Run from the
# repository root:
#   Rscript tests/reference/glmm/make_refs.R            # fits only, from the CSVs in mixednb/data
#   Rscript tests/reference/glmm/make_refs.R --export   # first writes those CSVs from lme4 / mlmRev
# Writes tests/reference/glmm/lme4_glmm.json. Each case is fitted twice: with glmer's defaults (what the tests compare
# against: stage 1 bobyqa, stage 2 Nelder_Mead, vcov from the finite-difference Hessian) and, for information, with
# bobyqa in both stages and tight tolerances ("tight"), to tell lme4's stopping error from ours. lme4's deviance
# function stops PIRLS when the penalized deviance changes by less than tolPwrss = 1e-7 (relatively) and reads log|L|²
# off the factor made with the weights of the step before: its value is off the exact Laplace deviance by up to ~1e-3
# (cbpp at lme4's optimum: 184.053133 with tolPwrss = 1e-7, 184.052572 with 1e-12), and the finite-difference Hessian
# (step 1e-4) that gives glmer's standard errors amplifies that noise (Contraception: SEs move by 0.2-0.4% between
# tolPwrss 1e-7, 1e-10 and 1e-13). "precise" is therefore lme4's own deriv12 Hessian of its deviance function with
# tolPwrss = 1e-13, at the optimum of that function (the tight fit polished by minqa's bobyqa, rhoend = 1e-10): the
# estimates and standard errors a converged, noise-free lme4 reports.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
csv <- function(n) {                                     # VerbAgg is shipped gzipped (read.csv reads it as it is)
  f <- file.path("mixednb", "data", paste0(n, ".csv"))
  if (n == "VerbAgg") paste0(f, ".gz") else f
}
if ("--export" %in% args) {
  suppressPackageStartupMessages(library(mlmRev))
  data(cbpp, grouseticks, VerbAgg, package = "lme4"); data(Contraception, Mmmec, package = "mlmRev")
  gt <- grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR", "LOCATION")]   # cHEIGHT (HEIGHT - 462.24) left out
  write.csv(cbpp, csv("cbpp"), row.names = FALSE)
  write.csv(gt, csv("grouseticks"), row.names = FALSE)
  write.csv(Contraception, csv("Contraception"), row.names = FALSE)
  write.csv(Mmmec, csv("Mmmec"), row.names = FALSE)
  plain <- sub("\\.gz$", "", csv("VerbAgg"))
  write.csv(VerbAgg, plain, row.names = FALSE); system2("gzip", c("-9", "-n", "-f", plain))   # as PROVENANCE.md says
}
rd <- function(n, factors) {
  d <- read.csv(csv(n), stringsAsFactors = FALSE)
  for (f in factors) { v <- d[[f]]; d[[f]] <- factor(v, levels = sort(unique(v))) }   # levels sorted, as mixednb.load
  d
}
dat <- list(
  cbpp = rd("cbpp", c("herd", "period")),
  grouseticks = rd("grouseticks", c("INDEX", "BROOD", "YEAR", "LOCATION")),
  Contraception = rd("Contraception", c("woman", "district", "use", "livch", "urban")),
  Mmmec = rd("Mmmec", c("nation", "region", "county")),
  VerbAgg = rd("VerbAgg", c("Gender", "item", "resp", "id", "btype", "situ", "mode", "r2")),
  sleepstudy = rd("sleepstudy", "Subject"))
cases <- list(
  list(id = "cbpp_binomial", data = "cbpp", family = "binomial", link = "logit",
       formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
  list(id = "cbpp_proportion_weights", data = "cbpp", family = "binomial", link = "logit", weights = "size",
       formula = "incidence / size ~ period + (1 | herd)"),
  list(id = "cbpp_cloglog", data = "cbpp", family = "binomial", link = "cloglog",
       formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
  list(id = "grouseticks_poisson", data = "grouseticks", family = "poisson", link = "log",
       formula = "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"),
  list(id = "contraception_slope", data = "Contraception", family = "binomial", link = "logit",
       formula = "use ~ age + I(age^2) + urban + livch + (urban | district)"),
  list(id = "contraception_probit", data = "Contraception", family = "binomial", link = "probit",
       formula = "use ~ age + I(age^2) + urban + livch + (1 | district)"),
  list(id = "mmmec_offset", data = "Mmmec", family = "poisson", link = "log",
       formula = "deaths ~ uvb + offset(log(expected)) + (1 | nation) + (1 | region)"),
  list(id = "verbagg_crossed", data = "VerbAgg", family = "binomial", link = "logit",
       formula = "r2 ~ (Anger + Gender + btype + situ) + (1 | id) + (1 | item)"),
  list(id = "cbpp_agq9", data = "cbpp", family = "binomial", link = "logit", nAGQ = 9,
       formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
  list(id = "sleepstudy_gamma_log", data = "sleepstudy", family = "Gamma", link = "log",
       formula = "Reaction ~ Days + (1 | Subject)"),
  list(id = "sleepstudy_gamma_inverse", data = "sleepstudy", family = "Gamma", link = "inverse",
       formula = "Reaction ~ Days + (1 | Subject)"),
  list(id = "sleepstudy_invgauss_log", data = "sleepstudy", family = "inverse.gaussian", link = "log",
       formula = "Reaction ~ Days + (1 | Subject)"),
  list(id = "grouseticks_nb", data = "grouseticks", family = "negative.binomial", link = "log",
       formula = "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)")
)
fam <- function(k) get(k$family)(link = k$link)
isnb <- function(k) k$family == "negative.binomial"
agq <- function(k) if (is.null(k$nAGQ)) 1L else k$nAGQ
# one glmer (or glmer.nb) call of case k, with extra arguments
fitk <- function(k, d, w, ...) {
  if (isnb(k)) glmer.nb(as.formula(k$formula), data = d, ...)
  else glmer(as.formula(k$formula), data = d, family = fam(k), weights = w, nAGQ = agq(k), ...)
}
summ <- function(m) {
  re <- as.data.frame(ranef(m, condVar = FALSE))
  vh <- as.matrix(vcov(m)); vrx <- as.matrix(vcov(m, use.hessian = FALSE))
  list(deviance = deviance(m), minus2logLik = -2 * as.numeric(logLik(m)), logLik = as.numeric(logLik(m)),
       AIC = AIC(m), BIC = BIC(m), df = attr(logLik(m), "df"), nobs = nobs(m), ngrps = as.list(ngrps(m)),
       theta = unname(getME(m, "theta")), fixef = as.list(fixef(m)),
       se = as.list(setNames(sqrt(diag(vh)), names(fixef(m)))),
       se_rx = as.list(setNames(sqrt(diag(vrx)), names(fixef(m)))),
       vcov = unname(vh),
       ranef = lapply(split(re, re$grpvar), function(r) list(term = as.character(r$term), level = as.character(r$grp),
                                                          condval = r$condval)),
       fitted_head = unname(head(fitted(m), 10)), linkpred_head = unname(head(predict(m), 10)),
       devresid_head = unname(head(residuals(m, type = "deviance"), 10)),
       pearson_head = unname(head(residuals(m, type = "pearson"), 10)),
       sigma = sigma(m), varcorr = as.data.frame(VarCorr(m)),
       nb_theta = if (grepl("Negative Binomial", family(m)$family)) getME(m, "glmer.nb.theta") else NA,
       feval = m@optinfo$feval, messages = c(m@optinfo$conv$lme4$messages, m@optinfo$warnings),
       summary_coef = unname(coef(summary(m))),
       summary_text = paste(capture.output(print(summary(m), correlation = FALSE)), collapse = "\n"))
}
fits <- lapply(cases, function(k) {
  d <- dat[[k$data]]
  w <- if (is.null(k$weights)) NULL else d[[k$weights]]
  cat(k$id, "\n")
  m <- fitk(k, d, w)
  mt <- fitk(k, d, w, control = glmerControl(optimizer = "bobyqa", tolPwrss = 1e-10,
                                            optCtrl = list(maxfun = 1e5, rhoend = 1e-10)))
  # stage 1 alone (nAGQ = 0): theta with beta estimated inside PIRLS
  m0 <- if (isnb(k)) NULL else glmer(as.formula(k$formula), data = d, family = fam(k), weights = w, nAGQ = 0)
  # the deviance function of the tight fit (glmer.nb: at its final negative-binomial theta)
  famt <- if (isnb(k)) MASS::negative.binomial(theta = getME(mt, "glmer.nb.theta")) else fam(k)
  dd <- glmer(as.formula(k$formula), data = d, family = famt, weights = w, nAGQ = agq(k), devFunOnly = TRUE,
              control = glmerControl(tolPwrss = 1e-13))
  p <- c(getME(mt, "theta"), fixef(mt)); nth <- length(getME(mt, "theta"))
  # polish the tight fit on that precise deviance function (minqa's bobyqa, rhoend 1e-10): lme4's exact optimum
  # (a step where lme4's PIRLS fails counts as +Inf)
  opt <- minqa::bobyqa(p, function(x) tryCatch(dd(x), error = function(e) Inf), lower = c(getME(mt, "lower"), rep(-Inf, length(fixef(mt)))),
                       control = list(rhoend = 1e-10, maxfun = 1e5))
  if (opt$fval < dd(p)) p <- setNames(opt$par, names(p))
  h <- lme4:::deriv12(dd, p)$Hessian
  V <- solve(h); V <- (V + t(V))[-seq_len(nth), -seq_len(nth), drop = FALSE]
  precise <- list(minus2logLik = dd(p), theta = unname(p[seq_len(nth)]),
                  fixef = as.list(setNames(p[-seq_len(nth)], names(fixef(mt)))),
                  se = as.list(setNames(sqrt(diag(V)), names(fixef(mt)))))
  c(list(id = k$id, data = k$data, formula = k$formula, family = k$family, link = k$link,
         weights = if (is.null(k$weights)) NA else k$weights, nAGQ = agq(k)), summ(m),
    list(tight = summ(mt), precise = precise,
         nAGQ0 = if (is.null(m0)) NA else list(minus2logLik = -2 * as.numeric(logLik(m0)), theta = unname(getME(m0, "theta")),
                                               fixef = as.list(fixef(m0)))))
})
meta <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
             mlmRev = as.character(packageVersion("mlmRev")), made = format(Sys.Date()))
writeLines(toJSON(list(meta = meta, fits = fits), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           file.path("tests", "reference", "glmm", "lme4_glmm.json"))

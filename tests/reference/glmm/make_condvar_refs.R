# lme4's conditional variances of the random effects of GLMMs (issue 12: ranef(m, condVar = TRUE) for glmer fits).
# Run from the repository root:  Rscript tests/reference/glmm/make_condvar_refs.R
# Writes tests/reference/glmm/lme4_glmm_condvar.json. For each case, two fits: glmer's defaults ("default") and
# bobyqa in both stages with tolPwrss = 1e-10 ("tight"). For each fit: theta, fixef, sigma, and per grouping factor
# the conditional modes (ranef) and attr(ranef(m, condVar = TRUE)[[g]], "postVar") as an array levels x p x p.
# lme4 computes postVar from the sparse Cholesky factor L of Lambda'Z'WZ Lambda + I held by the fit (W: the PIRLS
# weights at the mode), as sigma^2 Lambda (LL')^-1 Lambda' per level; sigma = 1 for the binomial and Poisson, the
# dispersion's sigma for the Gamma (which is why the Gamma case is here).
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
csv <- function(n) {
  f <- file.path("mixednb", "data", paste0(n, ".csv"))
  if (n == "VerbAgg") paste0(f, ".gz") else f
}
rd <- function(n, factors) {                      # as make_refs.R: factor levels sorted, as mixednb.datasets.load
  d <- read.csv(csv(n), stringsAsFactors = FALSE)
  for (f in factors) { v <- d[[f]]; d[[f]] <- factor(v, levels = sort(unique(v))) }
  d
}
dat <- list(
  cbpp = rd("cbpp", c("herd", "period")),
  grouseticks = rd("grouseticks", c("INDEX", "BROOD", "YEAR", "LOCATION")),
  Contraception = rd("Contraception", c("woman", "district", "use", "livch", "urban")),
  VerbAgg = rd("VerbAgg", c("Gender", "item", "resp", "id", "btype", "situ", "mode", "r2")),
  sleepstudy = rd("sleepstudy", "Subject"))
cases <- list(
  list(id = "cbpp_binomial", data = "cbpp", family = binomial(),
       formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
  list(id = "grouseticks_poisson", data = "grouseticks", family = poisson(),
       formula = "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"),
  list(id = "contraception_slope", data = "Contraception", family = binomial(),
       formula = "use ~ age + I(age^2) + urban + livch + (urban | district)"),
  list(id = "verbagg_crossed", data = "VerbAgg", family = binomial(),
       formula = "r2 ~ (Anger + Gender + btype + situ) + (1 | id) + (1 | item)"),
  list(id = "sleepstudy_gamma_log", data = "sleepstudy", family = Gamma(link = "log"),
       formula = "Reaction ~ Days + (1 | Subject)"))
one <- function(m) {
  re <- ranef(m, condVar = TRUE)
  list(theta = unname(getME(m, "theta")), fixef = as.list(fixef(m)), sigma = sigma(m),
       minus2logLik = -2 * as.numeric(logLik(m)),
       ranef = lapply(names(re), function(g) {
         r <- re[[g]]; pv <- attr(r, "postVar")                # p x p x levels
         list(group = g, terms = names(r), levels = rownames(r), condval = unname(as.matrix(r)),
              postVar = aperm(pv, c(3, 1, 2)))
       }))
}
fits <- lapply(cases, function(k) {
  cat(k$id, "\n")
  d <- dat[[k$data]]
  m <- glmer(as.formula(k$formula), data = d, family = k$family)
  mt <- glmer(as.formula(k$formula), data = d, family = k$family,
              control = glmerControl(optimizer = "bobyqa", tolPwrss = 1e-10, optCtrl = list(maxfun = 1e5, rhoend = 1e-10)))
  list(id = k$id, data = k$data, formula = k$formula, family = k$family$family, link = k$family$link,
       default = one(m), tight = one(mt))
})
meta <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")), made = format(Sys.Date()))
writeLines(toJSON(list(meta = meta, fits = fits), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           file.path("tests", "reference", "glmm", "lme4_glmm_condvar.json"))

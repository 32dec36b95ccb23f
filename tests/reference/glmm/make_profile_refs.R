# lme4 profile intervals of a GLMM with a correlated random intercept and slope (issue 12: profile intervals for the
# standard deviations and the correlation of a vector term). Run from the repository root:
#   Rscript tests/reference/glmm/make_profile_refs.R
# Reads tests/reference/glmm/vector_slope.csv (binomial counts s of s + f trials, 15 groups g of 10 rows; written once
# by tests/test_glmm_inference.py's `_simulated()`), writes tests/reference/glmm/lme4_glmm_profile.json.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
d <- read.csv("tests/reference/glmm/vector_slope.csv", stringsAsFactors = FALSE)
d$g <- factor(d$g, levels = sort(unique(d$g)))
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-10, optCtrl = list(maxfun = 1e5, rhoend = 1e-10))
m <- glmer(cbind(s, f) ~ x + (x | g), d, binomial, control = ctl)
pr <- profile(m, signames = TRUE)                  # sd_(Intercept)|g, cor_x.(Intercept)|g, sd_x|g, fixed effects
ci <- confint(pr, level = 0.95)
ci90 <- confint(pr, level = 0.90)
out <- list(
  meta = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")), made = format(Sys.Date())),
  formula = "cbind(s, f) ~ x + (x | g)",
  theta = unname(getME(m, "theta")), fixef = as.list(fixef(m)), minus2logLik = -2 * as.numeric(logLik(m)),
  names = rownames(ci), lower = unname(ci[, 1]), upper = unname(ci[, 2]),
  lower90 = unname(ci90[, 1]), upper90 = unname(ci90[, 2]))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/glmm/lme4_glmm_profile.json")

# lme4 references for GLMM inference (issue 12): likelihood-ratio anova, Wald and profile confidence intervals, and
# the Pearson overdispersion statistic of the GLMM FAQ. Run from the repository root:
#   Rscript tests/reference/glmm/make_inference_refs.R
# Writes tests/reference/glmm/lme4_glmm_inference.json. Data: the bundled CSVs, factor levels sorted as mixednb.load.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
rd <- function(n, factors) {
  d <- read.csv(file.path("mixednb", "data", paste0(n, ".csv")), stringsAsFactors = FALSE)
  for (f in factors) { v <- d[[f]]; d[[f]] <- factor(v, levels = sort(unique(v))) }
  d
}
cbpp <- rd("cbpp", c("herd", "period"))
gt <- rd("grouseticks", c("INDEX", "BROOD", "YEAR", "LOCATION"))
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-10, optCtrl = list(maxfun = 1e5, rhoend = 1e-10))
gm1 <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial, control = ctl)
gm0 <- glmer(cbind(incidence, size - incidence) ~ 1 + (1 | herd), cbpp, binomial, control = ctl)
a <- anova(gm0, gm1)
pr <- confint(gm1, method = "profile")            # .sig01 and the fixed effects, 95%
wd <- confint(gm1, method = "Wald")
# Pearson overdispersion (Bolker's GLMM FAQ): sum of squared Pearson residuals against chi-square(n - npar)
od <- function(m) {
  rdf <- df.residual(m); rp <- residuals(m, type = "pearson"); chisq <- sum(rp^2)
  list(chisq = chisq, ratio = chisq / rdf, rdf = rdf, p = pchisq(chisq, df = rdf, lower.tail = FALSE))
}
gp <- glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION), gt, poisson, control = ctl)
out <- list(
  meta = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")), made = format(Sys.Date())),
  anova = list(models = c("cbind(incidence, size - incidence) ~ 1 + (1 | herd)",
                          "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
               npar = a$npar, AIC = a$AIC, BIC = a$BIC, logLik = a$logLik, deviance = a$deviance,
               Chisq = a$Chisq, Df = a$Df, p = a[["Pr(>Chisq)"]]),
  confint = list(formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)", names = rownames(pr),
                 profile_lower = unname(pr[, 1]), profile_upper = unname(pr[, 2]),
                 wald_names = rownames(wd)[!is.na(wd[, 1])],
                 wald_lower = unname(wd[!is.na(wd[, 1]), 1]), wald_upper = unname(wd[!is.na(wd[, 1]), 2])),
  overdispersion = c(list(formula = "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)", family = "poisson"),
                     od(gp)),
  overdispersion_cbpp = od(gm1))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           file.path("tests", "reference", "glmm", "lme4_glmm_inference.json"))

# References for issue 14's inference (Kenward-Roger, emmeans, rePCA), made once with
# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3, pbkrtest, emmeans.  Run from the repository root:
#   Rscript tests/reference/inference14/make_refs.R
# Writes tests/reference/inference14/inference14.json.  The tests never need R.
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(pbkrtest); library(emmeans); library(jsonlite)})
data_dir <- "mixednb/data"
rd <- function(name, factors) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")), colClasses = "character")
  for (c in names(d)) {
    if (c %in% factors) {
      u <- unique(d[[c]])
      lev <- if (all(!is.na(suppressWarnings(as.numeric(u))))) u[order(as.numeric(u))] else sort(u, method = "radix")
      d[[c]] <- factor(d[[c]], levels = lev)
    } else d[[c]] <- as.numeric(d[[c]])
  }
  d
}
sleep <- rd("sleepstudy", "Subject")
sleep_unbal <- sleep[(seq_len(nrow(sleep)) - 1) %% 7 != 3, ]     # rows 3, 10, 17, ... (0-based) dropped
chick <- rd("ChickWeight", c("Chick", "Diet"))
cake <- rd("cake", c("replicate", "recipe", "temperature"))
oats <- rd("oats", c("B", "V", "N"))
machines <- rd("Machines", c("Worker", "Machine"))

models <- list(
  sleep = list(formula = "Reaction ~ Days + (Days | Subject)", data = "sleepstudy", rule = "all", d = sleep),
  sleep_unbal = list(formula = "Reaction ~ Days + (Days | Subject)", data = "sleepstudy", rule = "drop rows i with i % 7 == 3 (0-based)", d = sleep_unbal),
  chick = list(formula = "weight ~ Time * Diet + (Time | Chick)", data = "ChickWeight", rule = "all", d = chick),
  cake = list(formula = "angle ~ recipe * temperature + (1 | replicate) + (1 | recipe:replicate)", data = "cake", rule = "all", d = cake),
  oats = list(formula = "Y ~ N * V + (1 | B/V)", data = "oats", rule = "all", d = oats),
  machines = list(formula = "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)", data = "Machines", rule = "all", d = machines)
)

fits <- list()
out <- list(versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                            lmerTest = as.character(packageVersion("lmerTest")),
                            pbkrtest = as.character(packageVersion("pbkrtest")),
                            emmeans = as.character(packageVersion("emmeans"))),
            models = list(), emmeans = list(), repca = list())
for (nm in names(models)) {
  M <- models[[nm]]
  m <- lmerTest::lmer(as.formula(M$formula), data = M$d, REML = TRUE,
                      control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  fits[[nm]] <- m
  ct <- coef(summary(m, ddf = "Kenward-Roger"))
  cs <- coef(summary(m, ddf = "Satterthwaite"))
  av <- anova(m, ddf = "Kenward-Roger", type = 3)
  avs <- anova(m, ddf = "Satterthwaite", type = 3)
  Ls <- lmerTest:::get_contrasts_type3(m)
  contests <- lapply(names(Ls), function(trm) {
    L <- Ls[[trm]]; f <- contestMD(m, L, ddf = "Kenward-Roger")
    list(term = trm, L = unname(L), F = f[["F value"]], NumDF = f$NumDF, DenDF = f$DenDF, p = f[["Pr(>F)"]],
         MeanSq = f[["Mean Sq"]])
  })
  # a contrast matrix that is the identity on each term's own columns (the "columns of the term" test)
  asgn <- attr(getME(m, "X"), "assign"); labs <- attr(terms(m), "term.labels")
  coltests <- lapply(seq_along(labs), function(k) {
    idx <- which(asgn == k); L <- diag(length(m@beta))[idx, , drop = FALSE]
    f <- contestMD(m, L, ddf = "Kenward-Roger")
    list(term = labs[k], columns = colnames(getME(m, "X"))[idx], F = f[["F value"]], NumDF = f$NumDF, DenDF = f$DenDF,
         p = f[["Pr(>F)"]])
  })
  Va <- as.matrix(vcovAdj(m))
  out$models[[nm]] <- list(
    formula = M$formula, data = M$data, rows = M$rule, nobs = nrow(M$d),
    theta = unname(getME(m, "theta")), sigma = sigma(m), fixef = as.list(fixef(m)), REMLcrit = REMLcrit(m),
    kr_coef = list(names = rownames(ct), Estimate = unname(ct[, "Estimate"]), SE = unname(ct[, "Std. Error"]),
                   df = unname(ct[, "df"]), t = unname(ct[, "t value"]), p = unname(ct[, "Pr(>|t|)"])),
    satt_df = unname(cs[, "df"]),
    vcov = unname(as.matrix(vcov(m))), vcov_adj = unname(Va),
    anova_kr = list(terms = rownames(av), SumSq = av[["Sum Sq"]], MeanSq = av[["Mean Sq"]], NumDF = av$NumDF,
                    DenDF = av$DenDF, F = av[["F value"]], p = av[["Pr(>F)"]]),
    anova_satt = list(terms = rownames(avs), NumDF = avs$NumDF, DenDF = avs$DenDF, F = avs[["F value"]], p = avs[["Pr(>F)"]]),
    type3_contests = contests, column_contests = coltests)
  rp <- rePCA(m)
  out$repca[[nm]] <- lapply(rp, function(x) list(sdev = x$sdev, rotation = unname(x$rotation)))
}

emm_case <- function(id, model, specs, by = NULL, df) {
  m <- fits[[model]]
  e <- emmeans(m, specs = specs, by = by, lmer.df = df)
  es <- as.data.frame(summary(e))
  pr <- list()
  for (adj in c("tukey", "bonferroni", "holm", "none")) {
    p <- as.data.frame(summary(pairs(e), adjust = adj))
    pr[[adj]] <- list(contrast = as.character(p$contrast), by = if (is.null(by)) NULL else as.character(p[[by]]),
                      estimate = p$estimate, SE = p$SE, df = p$df, t = p$t.ratio, p = p$p.value)
  }
  list(id = id, model = model, specs = specs, by = by, ddf = df,
       emmeans = list(level = as.character(es[[specs]]), by = if (is.null(by)) NULL else as.character(es[[by]]),
                      emmean = es$emmean, SE = es$SE, df = es$df, lower = es$lower.CL, upper = es$upper.CL),
       pairs = pr)
}
out$emmeans <- list(
  emm_case("cake_recipe_kr", "cake", "recipe", NULL, "kenward-roger"),
  emm_case("cake_recipe_satt", "cake", "recipe", NULL, "satterthwaite"),
  emm_case("cake_temp_by_recipe_kr", "cake", "temperature", "recipe", "kenward-roger"),
  emm_case("oats_N_kr", "oats", "N", NULL, "kenward-roger"),
  emm_case("oats_V_by_N_satt", "oats", "V", "N", "satterthwaite"),
  emm_case("chick_diet_kr", "chick", "Diet", NULL, "kenward-roger"),
  emm_case("chick_diet_satt", "chick", "Diet", NULL, "satterthwaite"),
  emm_case("machines_kr", "machines", "Machine", NULL, "kenward-roger")
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null"), "tests/reference/inference14/inference14.json")

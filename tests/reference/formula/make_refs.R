# lme4 fits of formulas whose R meaning differs from Python's (issue 10): response expressions, ^ inside calls,
# factor(), log(), columns named like functions or holding dots; prior weights (sleepstudy: w = 1/(1 + Days);
# ChickWeight: w = (Chick mod 5) + 0.5); offsets (offset(5 * Days), offset = 0.02 * Time);
# an ordered factor (cake's temperature, contr.poly); contrasts= (sum, Helmert);
# poly(), orthogonal and raw (and on the whole column when rows are missing); contrast matrices (named and unnamed columns); lme4's dummy(); R's & inside I(); scale() (and its center/scale arguments) with missing values in another column (R scales the whole column: sleepstudy with every 7th Reaction NA). Run from the repository root:
#   Rscript tests/reference/formula/make_refs.R
# Reads the CSVs bundled in mixednb/data; writes tests/reference/formula/lme4_fits.json.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
rd <- function(n) read.csv(file.path("mixednb", "data", paste0(n, ".csv")), stringsAsFactors = TRUE)
sl <- rd("sleepstudy"); sl$Subject <- factor(sl$Subject)
ck <- rd("cake"); ck$temperature <- factor(ck$temperature, levels = sort(unique(ck$temperature)), ordered = TRUE)
ck$recipe <- factor(ck$recipe); ck$replicate <- factor(ck$replicate)
cw <- rd("ChickWeight"); cw$Chick <- factor(cw$Chick); cw$Diet <- factor(cw$Diet)
sl$w <- 1 / (1 + sl$Days); cw$w <- (as.numeric(as.character(cw$Chick)) %% 5) + 0.5; cw$o <- 0.02 * cw$Time
ren <- sl; names(ren)[names(ren) == "Days"] <- "exp"; ren$Days.num <- ren$exp / 10; ren$C <- ren$exp %% 2
cases <- list(
  list(id = "response_minus", data = "sleepstudy", formula = "Reaction - 100 ~ Days + (Days | Subject)", REML = TRUE),
  list(id = "response_log_power", data = "sleepstudy", formula = "log(Reaction) ~ Days + I(Days^2) + (1 | Subject)", REML = TRUE),
  list(id = "factor_days", data = "sleepstudy", formula = "Reaction ~ factor(Days) + (1 | Subject)", REML = FALSE),
  list(id = "ratio_response", data = "ChickWeight", formula = "weight/100 ~ Time + I(Time^2) + Diet + (Time | Chick)", REML = TRUE),
  list(id = "power_in_bar", data = "ChickWeight", formula = "log(weight) ~ Time + (Time + I(Time^2) || Chick)", REML = FALSE),
  list(id = "named_like_functions", data = "renamed", formula = "Reaction ~ exp + Days.num:C + (exp | Subject)", REML = TRUE),
  list(id = "weights_sleep", data = "sleepstudy", formula = "Reaction ~ Days + (Days | Subject)", REML = TRUE, weights = "w"),
  list(id = "weights_chick_ml", data = "ChickWeight", formula = "log(weight) ~ Time + Diet + (Time | Chick)", REML = FALSE, weights = "w"),
  list(id = "offset_in_formula", data = "sleepstudy", formula = "Reaction ~ Days + offset(5 * Days) + (Days | Subject)", REML = TRUE),
  list(id = "offset_argument_weights", data = "ChickWeight", formula = "log(weight) ~ Time + (Time | Chick)", REML = FALSE,
       weights = "w", offset = "o"),
  list(id = "ordered_factor", data = "cake", formula = "angle ~ recipe + temperature + (1 | recipe:replicate)", REML = TRUE),
  list(id = "contrasts_sum", data = "cake", formula = "angle ~ recipe * temp + (1 | recipe:replicate)", REML = TRUE,
       contrasts = list(recipe = "contr.sum")),
  list(id = "scale_with_missing", data = "sleepmissing", formula = "Reaction ~ scale(Days) + (scale(Days) | Subject)", REML = TRUE),
  list(id = "poly_orthogonal", data = "sleepstudy", formula = "Reaction ~ poly(Days, 2) + (1 | Subject)", REML = TRUE),
  list(id = "poly_raw_ml", data = "sleepstudy", formula = "Reaction ~ poly(Days, 3, raw = TRUE) + (1 | Subject)", REML = FALSE),
  list(id = "contrasts_helmert_ml", data = "ergoStool", formula = "effort ~ Type + (1 | Subject)", REML = FALSE,
       contrasts = list(Type = "contr.helmert")),
  list(id = "contrasts_matrix_named", data = "ergoStool", formula = "effort ~ Type + (1 | Subject)", REML = TRUE,
       contrasts = list(Type = cbind(lin = c(-3, -1, 1, 3), quad = c(1, -1, -1, 1)))),
  list(id = "contrasts_matrix_ml", data = "cake", formula = "angle ~ recipe + temp + (1 | recipe:replicate)", REML = FALSE,
       contrasts = list(recipe = cbind(c(2, -1, -1), c(0, 1, -1)))),
  list(id = "dummy_random", data = "ergoStool", formula = "effort ~ Type + (1 | Subject) + (0 + dummy(Type, \"T3\") | Subject)", REML = TRUE),
  list(id = "logic_in_I", data = "sleepstudy", formula = "Reaction ~ Days + I(Days > 2 & Days < 8) + (1 | Subject)", REML = TRUE),
  list(id = "scale_arguments_missing", data = "sleepmissing", REML = TRUE,
       formula = "Reaction ~ scale(Days, center = FALSE) + (scale(Days, scale = FALSE) | Subject)"),
  list(id = "poly_with_missing", data = "sleepmissing", formula = "Reaction ~ poly(Days, 3) + (1 | Subject)", REML = TRUE),
  list(id = "crossing_power", data = "ChickWeight", formula = "log(weight) ~ (Time + Diet + I(Time^2))^2 + (Time | Chick)", REML = FALSE)
)
es <- rd("ergoStool"); es$Type <- factor(es$Type); es$Subject <- factor(es$Subject)
sm <- sl; sm$Reaction[seq(1, 180, by = 7)] <- NA   # scale(Days) uses all 180 Days, the fit 154 rows
dat <- list(sleepmissing = sm, sleepstudy = sl, ChickWeight = cw, renamed = ren, cake = ck, ergoStool = es)
fits <- lapply(cases, function(k) {
  d <- dat[[k$data]]
  prior_w <- if (is.null(k$weights)) NULL else d[[k$weights]]   # lmer looks weights= up in data first: no name clash
  off <- if (is.null(k$offset)) NULL else d[[k$offset]]
  m <- lmer(as.formula(k$formula), data = d, REML = k$REML, weights = prior_w, offset = off, contrasts = k$contrasts,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  list(id = k$id, data = k$data, formula = k$formula, REML = k$REML, weights = if (is.null(k$weights)) NA else k$weights,
       offset = if (is.null(k$offset)) NA else k$offset,
       contrasts = if (is.null(k$contrasts)) NA else lapply(k$contrasts, function(v)
         if (is.matrix(v)) list(matrix = unname(v), colnames = if (is.null(colnames(v))) NA else colnames(v)) else sub("contr.", "", v, fixed = TRUE)), criterion = if (k$REML) REMLcrit(m) else deviance(m),
       fixef = as.list(fixef(m)), se = unname(sqrt(diag(as.matrix(vcov(m))))), sigma = sigma(m), theta = unname(getME(m, "theta")))
})
writeLines(toJSON(list(lme4 = as.character(packageVersion("lme4")), fits = fits), auto_unbox = TRUE, digits = 15, pretty = TRUE),
           "tests/reference/formula/lme4_fits.json")

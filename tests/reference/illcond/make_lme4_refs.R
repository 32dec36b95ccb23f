# lme4's criteria for the generated ill-conditioned problems (benchmarks/optimum.py's `problem(seed)`), made once:
#   Rscript tests/reference/illcond/make_lme4_refs.R        (from the repository root; R 4.2.2, lme4 1.1-31 from Debian)
# reads problems.csv.gz (one row per observation, `problem` = the seed) and problems.json (formula, REML per problem),
# fits each with lme4's default lmer() settings and writes lme4_fits.json: the REML criterion of a REML fit, the
# deviance of an ML fit, θ, and lme4's convergence messages.
suppressMessages({library(lme4); library(jsonlite)})
dir <- "tests/reference/illcond"
all <- read.csv(gzfile(file.path(dir, "problems.csv.gz")), stringsAsFactors = TRUE)
idx <- fromJSON(file.path(dir, "problems.json"))
out <- vector("list", nrow(idx))
for (i in seq_len(nrow(idx))) {
  d <- droplevels(all[all$problem == idx$problem[i], ])
  m <- suppressWarnings(suppressMessages(lmer(as.formula(idx$formula[i]), d, REML = idx$REML[i])))
  cmp <- getME(m, "devcomp")$cmp
  out[[i]] <- list(problem = idx$problem[i], criterion = unname(if (idx$REML[i]) cmp[["REML"]] else cmp[["dev"]]),
                   theta = unname(getME(m, "theta")), messages = paste(unlist(m@optinfo$conv$lme4$messages), collapse = " | "))
}
writeLines(toJSON(list(made_with = paste(R.version.string, "lme4", as.character(packageVersion("lme4"))), fits = out),
                  auto_unbox = TRUE, digits = NA), file.path(dir, "lme4_fits.json"))

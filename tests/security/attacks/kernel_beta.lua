-- kernel_beta.lua — attack: the model kernels at a beta the analyst picks, so that one number counts rows across a hyperplane (glm_step), or is a soft maximum: the largest covariate in the risk sets (cox_stratum), log of a poisson glm_step's summed weights.
-- params.kernel: "glm_step" or "cox_stratum"; params.args: the kernel's argument table, passed as given.
return {
  name = "kernel_beta", version = "1",
  station = function(data, params)
    local out = data[params.kernel](data, params.args)
    return { deviance = out.deviance, loglik = out.loglik, score = out.score, n = out.n,
      events = out.events, XtWz = out.XtWz, XtWX = out.XtWX, extreme = out.extreme }
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}

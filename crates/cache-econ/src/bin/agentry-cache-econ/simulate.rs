//! `simulate`: decisions under uncertainty on a set of idle gaps, and the what-ifs.

use agentry_cache_econ::{
    GapObservation, KaplanMeier, PriceTable, Ttl, competitive, format_minutes, format_usd, hazard_rule_pings,
    hazard_threshold, model_change, one_hour_threshold, ping_cost, plan_cost, solve_keepalive,
    with_return_probability,
};
use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::{PingArgs, print_json};

#[derive(Args)]
pub(crate) struct SimulateArgs {
    /// Model id.
    #[arg(long, default_value = "claude-opus-4-7")]
    pub(crate) model: String,
    /// Prefix size.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) prefix_tokens: u64,
    /// Observed idle gaps in minutes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,6,8,12,20,35,50,90,240")]
    pub(crate) gaps: Vec<f64>,
    /// Gaps cut off by the end of the log (the session may never have returned), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) censored: Vec<f64>,
    /// Probability that a session never returns, for the what-if.
    #[arg(long, default_value_t = 0.2)]
    pub(crate) never_return: f64,
    /// Idle minutes for the return-probability what-if.
    #[arg(long, default_value_t = 30.0)]
    pub(crate) idle_minutes: f64,
    /// Tokenizer inflation on a model change (0.35 = +35%).
    #[arg(long, default_value_t = 0.35)]
    pub(crate) inflation: f64,
    /// The model changed to, for the tokenizer what-if (default: the same model, which isolates the
    /// inflation).
    #[arg(long)]
    pub(crate) to_model: Option<String>,
    #[command(flatten)]
    pub(crate) ping: PingArgs,
    /// Most pings considered.
    #[arg(long, default_value_t = 24)]
    pub(crate) max_pings: u32,
    /// Print one JSON document.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn run(prices: &PriceTable, args: SimulateArgs) -> Result<()> {
    let SimulateArgs {
        model,
        prefix_tokens,
        gaps,
        censored,
        never_return,
        idle_minutes,
        inflation,
        to_model,
        ping,
        max_pings,
        json,
    } = args;
    let m = prices.get(&model, None)?;
    let mult = m.multipliers(Ttl::FiveMinutes);
    let mult_1h = m.multipliers(Ttl::OneHour);
    let obs: Vec<GapObservation> = gaps
        .iter()
        .map(|&minutes| GapObservation { minutes, returned: true })
        .chain(censored.iter().map(|&minutes| GapObservation { minutes, returned: false }))
        .collect();
    let km = KaplanMeier::fit(&obs)?;
    let plan = solve_keepalive(|t| km.survival_at(t), 0.0, mult.write, mult.read, 5.0, max_pings)?;
    let hazard_pings = hazard_rule_pings(&plan.hazards, mult.write, mult.read);
    let ratios = competitive(mult.write, mult.read)?;
    let uncertain =
        with_return_probability(m, Ttl::FiveMinutes, prefix_tokens, idle_minutes, 5.0, 1.0 - never_return)?;
    let to = match &to_model {
        Some(id) => prices.get(id, None)?,
        None => m,
    };
    let change = model_change(m, to, Ttl::FiveMinutes, prefix_tokens, inflation)?;
    // ModelChange's fields, plus which models and what inflation.
    let mut tokenizer = serde_json::to_value(&change)?;
    if let Some(fields) = tokenizer.as_object_mut() {
        fields.insert("from_model".into(), json!(m.id));
        fields.insert("to_model".into(), json!(to.id));
        fields.insert("inflation".into(), json!(inflation));
    }
    let ping_what_if =
        ping_cost(m, Ttl::FiveMinutes, prefix_tokens, ping.ping_tail_tokens, ping.ping_output_tokens, 5.0)?;
    let p_5_60 = km.survival_at(5.0) - km.survival_at(60.0);
    let one_hour = one_hour_threshold(mult.write, mult_1h.write, mult.read);
    let plan_usd = plan_cost(m, Ttl::FiveMinutes, prefix_tokens, &plan)?;
    let doc = json!({
        "model": m.id,
        "prefix_tokens": prefix_tokens,
        "hazard_threshold": hazard_threshold(mult.write, mult.read),
        "kaplan_meier": km,
        "optimal_pings": plan.pings,
        "hazard_rule_pings": hazard_pings,
        "expected_idle_cost_usd": plan_usd.expected_usd,
        "never_ping_idle_cost_usd": plan_usd.never_ping_usd,
        "hazards": plan.hazards,
        "competitive": ratios,
        "ttl_choice": { "p_return_5_to_60": p_5_60, "one_hour_threshold": one_hour, "one_hour_wins": p_5_60 > one_hour,
                         "pings_per_1h_premium": (mult_1h.write - mult.write) / mult.read },
        "what_if_return_probability": uncertain,
        "what_if_tokenizer": tokenizer,
        "what_if_ping_cost": { "output_tokens": ping.ping_output_tokens, "tail_tokens": ping.ping_tail_tokens,
                               "ping_usd": ping_what_if.ping_usd, "read_usd": ping_what_if.read_usd,
                               "achievable_minutes": ping_what_if.achievable_minutes },
    });
    if json {
        return print_json(&doc);
    }
    say!(
        "{} at {} prefix tokens; gaps observed {}, censored {}",
        m.id,
        prefix_tokens,
        km.observations - km.censored,
        km.censored
    );
    say!(
        "hazard threshold: ping while P(return in next 5 min) > {:.1}%",
        100.0 * hazard_threshold(mult.write, mult.read)
    );
    say!("one-step hazard rule: {hazard_pings} pings; backward induction: {} pings", plan.pings);
    say!(
        "expected idle cost per gap: ${} (never pinging: ${})",
        format_usd(plan_usd.expected_usd, 4),
        format_usd(plan_usd.never_ping_usd, 4)
    );
    say!(
        "worst case (ski rental): never ping {:.2}x, best deterministic {} pings {:.3}x, break-even {} pings {:.3}x, randomized {:.3}x (bound e/(e-1) = {:.3})",
        ratios.never_ping_ratio,
        ratios.best_deterministic_pings,
        ratios.best_deterministic_ratio,
        ratios.breakeven_pings,
        ratios.breakeven_ratio,
        ratios.randomized_ratio,
        ratios.randomized_bound
    );
    say!("1-hour TTL pays when P(5 < gap <= 60) > {:.0}%: observed {:.0}%", 100.0 * one_hour, 100.0 * p_5_60);
    say!(
        "if {:.0}% of sessions never return, pinging through {} min pays only above a {:.0}% return chance",
        100.0 * never_return,
        format_minutes(idle_minutes),
        100.0 * uncertain.breakeven_probability
    );
    say!(
        "tokenizer +{:.0}% ({} -> {}): {} -> {} tokens, a cached turn ${} -> ${}, a write ${} -> ${}{}",
        100.0 * inflation,
        m.id,
        to.id,
        change.prefix_tokens_before,
        change.prefix_tokens_after,
        format_usd(change.read_usd_before, 4),
        format_usd(change.read_usd_after, 4),
        format_usd(change.write_usd_before, 4),
        format_usd(change.write_usd_after, 4),
        if change.below_minimum_after { " (below the new model's minimum: not cached)" } else { "" }
    );
    say!(
        "a ping of {} output and {} tail tokens costs ${}: pinging beats rewriting up to {} min",
        ping.ping_output_tokens,
        ping.ping_tail_tokens,
        format_usd(ping_what_if.ping_usd, 6),
        format_minutes(ping_what_if.achievable_minutes)
    );
    Ok(())
}

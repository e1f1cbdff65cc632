-- Every won deal is attributed under every model, and its weights sum to 1 (within float error).
select deal_id, attribution_model, sum(weight) as total_weight
from {{ ref('fct_signal_attribution') }}
group by deal_id, attribution_model
having abs(sum(weight) - 1) > 1e-9

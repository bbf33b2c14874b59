// Every analysis MoEScope offers, with what the page and the CLI need to know about it: where its data
// comes from, how to read its plot, and what it asks of the user.

export const ANALYSIS_NAMES = [
  'expert-similarity', 'neuron-similarity', 'reordered-similarity', 'router-similarity', 'expert-pca', 'neuron-pca',
  'output-similarity', 'norm-score-ranks', 'intermediate-states', 'chosen-experts',
  'coactivation', 'load-balance', 'vocabulary', 'domain-comparison',
] as const;
export type AnalysisName = (typeof ANALYSIS_NAMES)[number];

export interface AnalysisInfo {
  title: string;
  /** weights: from the checkpoint alone; forward: runs every expert on a text; routing: from the router's choices on a text. */
  source: 'weights' | 'forward' | 'routing';
  /** Two lines for the panel: what it shows, how to read it. */
  explain: string;
  /** Heatmap colour range: cosine −1…1, 0…1, or min…max over the layer's matrices of one kind (same first word: "share A" and "share B" share a scale). */
  scale: 'cosine' | 'unit' | 'auto';
  /** Computed for one chosen layer at a time (expensive or large), instead of every MoE layer. */
  oneLayer: boolean;
  /** Texts it needs: 0, 1 (a text or a batch), or 2 (two texts to compare). */
  texts: 0 | 1 | 2;
}

export const ANALYSES: Record<AnalysisName, AnalysisInfo> = {
  'expert-similarity': {
    title: 'Expert similarity (matrix level)', source: 'weights', scale: 'cosine', oneLayer: false, texts: 0,
    explain: 'Cosine similarity between experts’ flattened W_gate, W_up and W_down. Bright off-diagonal cells are experts whose weights resemble each other; the paper finds most pairs near 0.',
  },
  'neuron-similarity': {
    title: 'Expert similarity (neuron averaged)', source: 'weights', scale: 'cosine', oneLayer: false, texts: 0,
    explain: 'Each expert’s matrix averaged over its neurons to one vector, then compared. Averaging reveals shared structure that matrix-level similarity hides.',
  },
  'reordered-similarity': {
    title: 'Expert similarity (neurons reordered)', source: 'weights', scale: 'cosine', oneLayer: true, texts: 0,
    explain: 'Neurons of each pair of experts matched by the Hungarian method before comparing (left), and Kendall’s τ of the matching (right: 1 = neurons already in the same order). High similarity after reordering means experts are permutations of each other: neurons act as fine-grained experts.',
  },
  'router-similarity': {
    title: 'Router vs experts', source: 'weights', scale: 'cosine', oneLayer: false, texts: 0,
    explain: 'Cosine similarity between the router’s rows, beside the neuron-averaged expert similarity; r² of a linear fit says how much the router’s geometry mirrors the experts’.',
  },
  'expert-pca': {
    title: 'PCA of experts', source: 'weights', scale: 'auto', oneLayer: true, texts: 0,
    explain: 'Each expert’s flattened matrix (columns z-scored) projected onto the first two principal components. Experts far from the cloud are the unusual ones; a tight cloud means similar experts.',
  },
  'neuron-pca': {
    title: 'PCA of neurons', source: 'weights', scale: 'auto', oneLayer: true, texts: 0,
    explain: 'Every neuron of every expert (z-scored per hidden dimension) projected to 2-D, coloured by expert. Separate clusters mean experts own distinct neurons; mixed colours mean neurons are shared structure.',
  },
  'output-similarity': {
    title: 'Expert-output similarity', source: 'forward', scale: 'unit', oneLayer: false, texts: 1,
    explain: 'All experts run on every token (only the chosen ones still feed the model); angular similarity 1 − arccos(cos)/π of their outputs, averaged over the text. The paper finds outputs grow more alike with depth in some models, less in others.',
  },
  'norm-score-ranks': {
    title: 'Output norm vs gate score', source: 'forward', scale: 'auto', oneLayer: false, texts: 1,
    explain: 'Per token, experts ranked by the norm of their output and by their router score; cell (score rank, norm rank) counts tokens. A bright diagonal means the router prefers experts with large outputs (rank 0 = largest); the last entry sums all layers.',
  },
  'intermediate-states': {
    title: 'Intermediate states', source: 'forward', scale: 'auto', oneLayer: true, texts: 1,
    explain: 'silu(W_gate x) of every neuron of every expert for one token: experts × neurons. Chosen experts need not have the strongest activations; a few large neurons often dominate.',
  },
  'chosen-experts': {
    title: 'Chosen experts', source: 'routing', scale: 'unit', oneLayer: false, texts: 1,
    explain: 'Tokens × experts, colour = combine weight of the chosen experts (0 for the rest): the routing of the text as the model runs it.',
  },
  coactivation: {
    title: 'Co-activation', source: 'routing', scale: 'unit', oneLayer: false, texts: 1,
    explain: 'P(b | a): of the tokens that chose expert a (row), the share that also chose b (column). Bright off-diagonal cells are experts that work together.',
  },
  'load-balance': {
    title: 'Load balance', source: 'routing', scale: 'auto', oneLayer: false, texts: 1,
    explain: 'Share of assignments per expert, coefficient of variation, the auxiliary load-balancing loss E·Σ f·P (1 = perfectly balanced) and router entropy divided by log E.',
  },
  vocabulary: {
    title: 'Vocabulary specialisation', source: 'routing', scale: 'unit', oneLayer: false, texts: 1,
    explain: 'For each token id, the share of its occurrences sent (top-1) to its favourite expert, for the input token and for the next token. 1/E is what random routing would give; near 1 means experts own tokens.',
  },
  'domain-comparison': {
    title: 'Domain comparison', source: 'routing', scale: 'auto', oneLayer: false, texts: 2,
    explain: 'Two texts’ expert load per layer side by side, their Jensen–Shannon divergence in bits (0 = same experts, 1 = disjoint), and the flow of top-1 choices from each layer to the next.',
  },
};

export const isAnalysisName = (name: string): name is AnalysisName => (ANALYSIS_NAMES as readonly string[]).includes(name);

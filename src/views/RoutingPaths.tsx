// Routing paths in three.js: MoE layers along x, experts along y, tokens in depth. Line width and
// opacity follow the weight that flows along a segment; clicking a token in the strip isolates its path;
// drag to orbit, scroll to zoom; the newest token fades in.

import { useEffect, useMemo, useRef, useState } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { LineMaterial } from 'three/examples/jsm/lines/LineMaterial.js';
import { LineSegments2 } from 'three/examples/jsm/lines/LineSegments2.js';
import { LineSegmentsGeometry } from 'three/examples/jsm/lines/LineSegmentsGeometry.js';
import { useAppStore } from '../store/useAppStore.ts';
import { downloadCanvas, expertColour } from './download.ts';
import { LAYER_SPACING, MAX_TOKENS_DRAWN, PathGeometryBuilder, TOKEN_SPACING, WEIGHT_BUCKETS } from './pathGeometry.ts';

/** How long the newest token's segments take to fade in, ms. */
const FADE_MS = 400;

interface Scene {
  renderer: THREE.WebGLRenderer;
  scene: THREE.Scene;
  camera: THREE.PerspectiveCamera;
  controls: OrbitControls;
  /** The drawn path pieces by key (see pathGeometry), shifted so that the window's first token is at z = 0. */
  paths: THREE.Group;
  pieces: Map<string, LineSegments2[]>;
  /** Faint rails, one line in depth per (layer, expert). */
  rails: LineSegments2 | null;
  /** One material per line width and newest-or-not, plus the rails', kept for the view's life: a new
   * material per update made three.js compile and link its shader program again on every update. */
  lineMaterials: Map<string, LineMaterial>;
  railMaterial: LineMaterial;
  /** Draw on the next animation frame (paths rebuilt, resized); otherwise a frame draws only while the
   * camera moves or the newest token fades in, so an idle view costs the page and the GPU nothing. */
  dirty: boolean;
}

function createScene(host: HTMLDivElement): Scene {
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio));
  renderer.setSize(host.clientWidth, 420);
  renderer.setClearColor(0x111418);
  host.appendChild(renderer.domElement);
  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(45, host.clientWidth / 420, 0.1, 5000);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;
  const paths = new THREE.Group();
  scene.add(paths);
  const railMaterial = new LineMaterial({ color: 0x556070, linewidth: 1, transparent: true, opacity: 0.5 });
  railMaterial.resolution.set(host.clientWidth, 420);
  return { renderer, scene, camera, controls, paths, pieces: new Map(), rails: null, lineMaterials: new Map(), railMaterial, dirty: true };
}

/** The scene's material for segments of WEIGHT_BUCKETS[bucket]'s width, the newest token's or the others'. */
function lineMaterial(s: Scene, bucket: number, newest: boolean, width: number): LineMaterial {
  const key = `${bucket} ${newest}`;
  let material = s.lineMaterials.get(key);
  if (!material) {
    material = new LineMaterial({ linewidth: WEIGHT_BUCKETS[bucket]![1], vertexColors: true, transparent: true, opacity: 0.85 });
    material.resolution.set(width, 420);
    material.userData['born'] = 0;
    material.userData['opacity'] = 0.85;
    s.lineMaterials.set(key, material);
  }
  return material;
}

export function RoutingPaths() {
  const trace = useAppStore((s) => s.trace);
  const version = useAppStore((s) => s.trace?.version);
  const selected = useAppStore((s) => s.selectedToken);
  // the host div appears only once rows exist: a callback ref lets the scene effect wait for it
  const [hostEl, setHostEl] = useState<HTMLDivElement | null>(null);
  const host = useRef<HTMLDivElement | null>(null);
  host.current = hostEl;
  const sceneRef = useRef<Scene | null>(null);
  const framed = useRef(false);
  const [webglError, setWebglError] = useState<string | null>(null);
  const E = trace?.model.numExperts ?? 0;
  // each expert's colour as three.js takes it (parsed once, not once per segment)
  const expertRgb = useMemo(() => {
    const rgb = new Float32Array(E * 3);
    for (let e = 0; e < E; e++) new THREE.Color(expertColour(e, E)).toArray(rgb, e * 3);
    return rgb;
  }, [E]);
  // rows are appended in place: the version, not the trace object, says when segments change; the builder
  // keeps the whole chunks it wrote (see pathGeometry)
  const builder = useRef<PathGeometryBuilder | null>(null);
  builder.current ??= new PathGeometryBuilder();
  const geometry = useMemo(() => (trace ? builder.current!.update(trace, expertRgb, selected) : null), [trace, version, expertRgb, selected]);

  // one renderer for the component's life
  useEffect(() => {
    if (!host.current) return;
    let s: Scene;
    try {
      s = createScene(host.current);
    } catch (error) {
      setWebglError(error instanceof Error ? error.message : String(error));
      return;
    }
    sceneRef.current = s;
    let frame = 0;
    const tick = () => {
      // update() is true while the camera moves (a drag, a zoom, damping after either)
      let draw = s.controls.update() || s.dirty;
      const now = performance.now();
      for (const m of s.lineMaterials.values()) {
        const born = (m.userData['born'] as number | undefined) ?? 0;
        const target = (m.userData['opacity'] as number | undefined) ?? 1;
        const opacity = target * Math.min(1, (now - born) / FADE_MS);
        if (opacity !== m.opacity) draw = true;
        m.opacity = opacity;
      }
      if (draw) s.renderer.render(s.scene, s.camera);
      s.dirty = false;
      frame = requestAnimationFrame(tick);
    };
    tick();
    const resize = () => {
      const w = host.current?.clientWidth ?? 600;
      s.renderer.setSize(w, 420);
      s.camera.aspect = w / 420;
      s.camera.updateProjectionMatrix();
      for (const m of [...s.lineMaterials.values(), s.railMaterial]) m.resolution.set(w, 420);
      s.dirty = true;
    };
    window.addEventListener('resize', resize);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener('resize', resize);
      s.controls.dispose();
      for (const objects of s.pieces.values()) for (const o of objects) o.geometry.dispose();
      s.rails?.geometry.dispose();
      for (const m of [...s.lineMaterials.values(), s.railMaterial]) m.dispose();
      s.renderer.dispose();
      s.renderer.domElement.remove();
      sceneRef.current = null;
    };
  }, [hostEl]);

  // when rows arrive or the selection changes: drop the pieces that are gone, add the new ones
  useEffect(() => {
    const s = sceneRef.current;
    if (!s || !trace) return;
    const pieces = geometry?.pieces ?? [];
    const keys = new Set(pieces.map((p) => p.key));
    for (const [key, objects] of s.pieces) {
      if (keys.has(key)) continue;
      for (const o of objects) {
        s.paths.remove(o);
        o.geometry.dispose();
      }
      s.pieces.delete(key);
    }
    const width = host.current?.clientWidth ?? 600;
    for (const piece of pieces) {
      if (s.pieces.has(piece.key)) continue;
      const objects = piece.batches.map((batch) => {
        const lines = new LineSegmentsGeometry();
        lines.setPositions(batch.positions);
        lines.setColors(batch.colours);
        const material = lineMaterial(s, batch.bucket, batch.newest, width);
        // the newest token fades in
        if (batch.newest) material.userData['born'] = trace.source === 'run' ? performance.now() : 0;
        return new LineSegments2(lines, material);
      });
      for (const o of objects) s.paths.add(o);
      s.pieces.set(piece.key, objects);
    }
    s.paths.position.z = -(geometry?.firstToken ?? 0) * TOKEN_SPACING;
    // faint rails: one line in depth per (layer, expert), so the grid reads without tokens
    const depth = (geometry?.tokensDrawn ?? 0) * TOKEN_SPACING;
    const rails: number[] = [];
    trace.layers.forEach((_, i) => {
      for (let e = 0; e < E; e++) rails.push(i * LAYER_SPACING, e, 0, i * LAYER_SPACING, e, depth);
    });
    if (s.rails) {
      s.scene.remove(s.rails);
      s.rails.geometry.dispose();
    }
    const railGeometry = new LineSegmentsGeometry();
    railGeometry.setPositions(rails);
    s.rails = new LineSegments2(railGeometry, s.railMaterial);
    s.scene.add(s.rails);

    if (!framed.current && (geometry?.segments ?? 0) > 0) {
      // frame the whole grid once; later updates keep the user's view
      const cx = ((trace.layers.length - 1) * LAYER_SPACING) / 2;
      const extent = Math.max((trace.layers.length - 1) * LAYER_SPACING, E, depth);
      const distance = (extent * 0.8) / Math.tan((s.camera.fov * Math.PI) / 360);
      s.controls.target.set(cx, E / 2, depth / 2);
      s.camera.position.set(cx + distance * 0.35, E / 2 + distance * 0.3, depth / 2 + distance);
      framed.current = true;
    }
    s.dirty = true;
  }, [geometry, trace, E, hostEl]);

  if (!trace || trace.layers.length < 1) return null;
  return (
    <section className="panel" aria-labelledby="paths-title">
      <h2 id="paths-title">Routing paths</h2>
      <p className="note">
        x: MoE layers {trace.layers.map((l) => l.layer).join(', ')} · y: expert · depth: token. Width and brightness follow the combine
        weights; colour is the token's first-layer top-1 expert. Drag to orbit, scroll to zoom; click a token in the strip to isolate
        it.
        {(trace.layers[0]?.experts.length ?? 0) > MAX_TOKENS_DRAWN && ` Showing the last ${MAX_TOKENS_DRAWN} tokens.`}
      </p>
      {webglError ? (
        <p className="error-text" data-testid="routing-paths">
          This view needs WebGL, which this browser refused: {webglError}
        </p>
      ) : (
        <div ref={setHostEl} className="paths-host" data-testid="routing-paths" data-segments={geometry?.segments ?? 0} />
      )}
      <button type="button" onClick={() => downloadCanvas(host.current?.querySelector('canvas'), 'moescope-paths.png')} disabled={webglError !== null}>
        Export PNG
      </button>
    </section>
  );
}

#!/usr/bin/env python3
"""The PyTorch twin of `newsrl train sft` on the synthetic copy task of
bench/copy_task.sh: the micro preset's shape with Qwen2's equations (as in
tests/reference/qwen2_reference.py), the same init scale, AdamW (betas 0.9,
0.95, no weight decay), warm-up + cosine schedule, global-norm clip 1 and the
same batching (prompt then target, labels on the target). Prints the loss
every 30 steps. Usage: copy_task_torch.py DATA.jsonl STEPS BATCH LR MIN_LR
Needs Debian's python3-torch (run it with /usr/bin/python3)."""
import json, math, random, sys, torch
torch.manual_seed(0); torch.set_num_threads(2)
V,H,I,L,HQ,HKV=2048,128,384,4,4,2; D=H//HQ
def P(*s,std=0.02): return torch.nn.Parameter(torch.randn(*s)*std)
params={"emb":P(V,H)}
for i in range(L):
    params.update({f"{i}.ln1":torch.nn.Parameter(torch.ones(H)),f"{i}.q":P(H,H),f"{i}.qb":torch.nn.Parameter(torch.zeros(H)),
      f"{i}.k":P(HKV*D,H),f"{i}.kb":torch.nn.Parameter(torch.zeros(HKV*D)),f"{i}.v":P(HKV*D,H),f"{i}.vb":torch.nn.Parameter(torch.zeros(HKV*D)),
      f"{i}.o":P(H,H),f"{i}.ln2":torch.nn.Parameter(torch.ones(H)),f"{i}.g":P(I,H),f"{i}.u":P(I,H),f"{i}.d":P(H,I)})
params["norm"]=torch.nn.Parameter(torch.ones(H))
def rms(x,w): return w*x*torch.rsqrt(x.pow(2).mean(-1,keepdim=True)+1e-6)
def rot(x): a,b=x[...,:D//2],x[...,D//2:]; return torch.cat((-b,a),-1)
def rope(x):
    inv=1.0/(10000**(torch.arange(0,D,2).float()/D)); f=torch.outer(torch.arange(x.shape[2]).float(),inv); e=torch.cat((f,f),-1)
    return x*e.cos()+rot(x)*e.sin()
def fwd(ids):
    B,T=ids.shape; x=params["emb"][ids]; m=torch.full((T,T),float("-inf")).triu(1)
    for i in range(L):
        p=lambda n: params[f"{i}.{n}"]; h=rms(x,p("ln1"))
        q=(h@p("q").T+p("qb")).view(B,T,HQ,D).transpose(1,2); k=(h@p("k").T+p("kb")).view(B,T,HKV,D).transpose(1,2); v=(h@p("v").T+p("vb")).view(B,T,HKV,D).transpose(1,2)
        q,k=rope(q),rope(k); k=k.repeat_interleave(HQ//HKV,1); v=v.repeat_interleave(HQ//HKV,1)
        a=(torch.softmax(q@k.transpose(-1,-2)/math.sqrt(D)+m,-1)@v).transpose(1,2).reshape(B,T,H)
        x=x+a@p("o").T; h2=rms(x,p("ln2")); x=x+(torch.nn.functional.silu(h2@p("g").T)*(h2@p("u").T))@p("d").T
    return rms(x,params["norm"])@params["emb"].T
data=[json.loads(l) for l in open(sys.argv[1])]
steps,B,lr0,lrmin,wu=int(sys.argv[2]),int(sys.argv[3]),float(sys.argv[4]),float(sys.argv[5]),20
opt=torch.optim.AdamW(params.values(),lr=lr0,weight_decay=0.0,betas=(0.9,0.95))
r=random.Random(0)
for s in range(1,steps+1):
    lr=lr0*s/wu if s<=wu else lrmin+0.5*(lr0-lrmin)*(1+math.cos(math.pi*(s-wu)/(steps-wu)))
    for g in opt.param_groups: g['lr']=lr
    ex=[data[r.randrange(len(data))] for _ in range(B)]; T=max(len(e['prompt'])+len(e['target']) for e in ex)
    ids=torch.zeros(B,T,dtype=torch.long); lab=torch.full((B,T),-100)
    for b,e in enumerate(ex):
        sq=e['prompt']+e['target']; ids[b,:len(sq)]=torch.tensor(sq); lab[b,len(e['prompt']):len(sq)]=torch.tensor(e['target'])
    lo=fwd(ids); loss=torch.nn.functional.cross_entropy(lo[:,:-1].reshape(-1,V),lab[:,1:].reshape(-1),ignore_index=-100)
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params.values(),1.0); opt.step()
    if s%30==0: print(s,round(loss.item(),3),flush=True)
